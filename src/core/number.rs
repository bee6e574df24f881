//! Decimal text to `f64` without `f64::from_str`.
//!
//! Why: `std`'s float parser (Eisel-Lemire plus a big-decimal fallback)
//! costs about 4 KB of code and a 10 KB table of powers of five in the wasm
//! build, and every number this client reads is a duration, a volume, a
//! progress fraction, a credit count or a size.
//!
//! [`parse_f64`] accepts exactly what `str::parse::<f64>` accepts and is
//! **correctly rounded** (bit-identical to `std`) for every input with at
//! most 19 significant digits and a decimal exponent (of the integer
//! mantissa) from −19 to +19, i.e. every number a server writes in
//! practice, including the 17-digit shortest forms of doubles that
//! `JSON.stringify` produces (`0.30000000000000004`). Outside that range
//! (more digits, or larger exponents) it computes with a 64-bit mantissa
//! and rounds once at the end: the result is the correctly rounded one
//! unless the input lies within about 2^-58 (relative) of a halfway point
//! between two doubles, where it can be one ULP off; subnormal results
//! (below 2.2e-308) can be one of their coarser ULPs off. Overflow gives
//! ±∞ and underflow 0, as `std` does. The tests compare with `std`.

use std::num::NonZeroU64;

/// `10^0 ..= 10^22`: each is exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// How many significant digits fit in the `u64` mantissa.
const MAX_DIGITS: u32 = 19;

/// Parses `s` like `s.parse::<f64>().ok()`: an optional sign, then digits
/// with an optional `.` (at least one digit) and an optional exponent, or
/// `inf`, `infinity` or `nan` in any case. No surrounding whitespace.
pub fn parse_f64(s: &str) -> Option<f64> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let v = if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else {
        let (mantissa, exp10, truncated) = decimal(body.as_bytes())?;
        to_f64(mantissa, exp10, truncated)
    };
    Some(if negative { -v } else { v })
}

/// Reads `digits[.digits][(e|E)[sign]digits]` into a mantissa of at most
/// 19 significant digits, its power of ten, and whether non-zero digits
/// were dropped.
fn decimal(b: &[u8]) -> Option<(u64, i64, bool)> {
    let mut mantissa: u64 = 0;
    let mut kept: u32 = 0;
    let mut exp10: i64 = 0;
    let mut truncated = false;
    let mut any_digit = false;
    let mut i = 0;
    let mut in_fraction = false;
    loop {
        match b.get(i) {
            Some(&d @ b'0'..=b'9') => {
                any_digit = true;
                if mantissa == 0 && d == b'0' {
                    // A leading zero: only its place value counts.
                    if in_fraction {
                        exp10 -= 1;
                    }
                } else if kept < MAX_DIGITS {
                    mantissa = mantissa * 10 + u64::from(d - b'0');
                    kept += 1;
                    if in_fraction {
                        exp10 -= 1;
                    }
                } else {
                    // Beyond 19 digits: drop it, keeping the magnitude.
                    truncated |= d != b'0';
                    if !in_fraction {
                        exp10 += 1;
                    }
                }
            }
            Some(b'.') if !in_fraction => in_fraction = true,
            _ => break,
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while let Some(&d @ b'0'..=b'9') = b.get(i) {
            // Saturate: anything this large is 0 or infinity anyway.
            e = (e * 10 + i64::from(d - b'0')).min(1_000_000);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp10 += if negative { -e } else { e };
    }
    (i == b.len()).then_some((mantissa, exp10, truncated))
}

/// `mantissa × 10^exp10`, rounded as the module docs say.
fn to_f64(mantissa: u64, exp10: i64, truncated: bool) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    if !truncated {
        // Clinger's fast path: both operands exact, so the one rounding of
        // the multiply or divide is the correct one.
        if mantissa <= 1 << 53 {
            if let Some(&p) = usize::try_from(exp10.unsigned_abs())
                .ok()
                .and_then(|e| POW10.get(e))
            {
                return if exp10 >= 0 {
                    mantissa as f64 * p
                } else {
                    mantissa as f64 / p
                };
            }
        }
    }
    // 10^-343 × (10^19 − 1) is below half the smallest subnormal, and
    // 10^309 is above `f64::MAX`.
    if exp10 < -343 {
        return 0.0;
    }
    if exp10 > 308 {
        return f64::INFINITY;
    }
    scaled(mantissa, exp10, truncated)
}

/// A binary float with a 64-bit mantissa: the value is `m × 2^exp`, with
/// `m`'s top bit set, and `inexact` when bits were cut off.
///
/// Each step multiplies or divides by `10^k` (k ≤ 19, so it fits in 64
/// bits) in 128-bit arithmetic and keeps the top 64 bits, folding what was
/// cut off into a sticky bit. One step (|exp10| ≤ 19) therefore rounds
/// exactly once, at the end: correct. Each further step truncates by less
/// than 2^-63 relative, so only inputs that close to a halfway point
/// between two doubles can come out one ULP off.
fn scaled(mantissa: u64, mut exp10: i64, truncated: bool) -> f64 {
    let lz = mantissa.leading_zeros();
    let mut m = mantissa << lz;
    let mut exp = -(lz as i32);
    let mut inexact = truncated;
    while exp10 != 0 {
        let k = exp10.unsigned_abs().min(19) as u32;
        // Never zero; the type says so, so no division-by-zero panic path.
        let p = NonZeroU64::new(10u64.pow(k)).unwrap_or(NonZeroU64::MIN);
        if exp10 > 0 {
            let wide = u128::from(m) * u128::from(p.get());
            let z = wide.leading_zeros();
            let top = wide << z;
            m = (top >> 64) as u64;
            inexact |= top as u64 != 0;
            exp += 64 - z as i32;
            exp10 -= i64::from(k);
        } else {
            // m·2^64 / p: at least 2^127 / 2^64, so the quotient keeps
            // more than 64 significant bits.
            let (q, r) = div_shifted(m, p);
            let z = q.leading_zeros();
            let top = q << z;
            m = (top >> 64) as u64;
            inexact |= top as u64 != 0 || r;
            exp -= z as i32;
            exp10 += i64::from(k);
        }
    }
    // The sticky bit sits 11 bits below the 53 kept, so the cast (round
    // to nearest, ties even) rounds as if it saw every bit. Scaling by a
    // power of two in two halves is exact unless the result is subnormal.
    let v = (m | u64::from(inexact)) as f64;
    let half = exp / 2;
    v * pow2(half) * pow2(exp - half)
}

/// `(m·2^64 / p, whether there is a remainder)`.
fn div_shifted(m: u64, p: NonZeroU64) -> (u128, bool) {
    let (lo, r) = div_wide(m % p, 0, p);
    ((u128::from(m / p) << 64) | u128::from(lo), r != 0)
}

/// `(hi·2^64 + lo) / p` and the remainder, for `hi < p` (so the quotient
/// fits in 64 bits). Bit-by-bit long division in 64-bit operations: a
/// 128-bit `/` would inline about 1.5 KB of `compiler_builtins` into the
/// wasm.
pub(crate) fn div_wide(hi: u64, mut lo: u64, p: NonZeroU64) -> (u64, u64) {
    let p = p.get();
    let mut r = hi;
    let mut q: u64 = 0;
    for _ in 0..64 {
        // r < p, so 2r + 1 < 2^65: the carry is the 65th bit.
        let (twice, carry) = r.overflowing_add(r);
        let twice = twice | (lo >> 63);
        lo <<= 1;
        q <<= 1;
        if carry || twice >= p {
            r = twice.wrapping_sub(p);
            q |= 1;
        } else {
            r = twice;
        }
    }
    (q, r)
}

/// `2^e` for `-1022 ≤ e ≤ 1023`, built from its bits.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + i64::from(e)) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::parse_f64;
    use proptest::prelude::*;

    fn std(s: &str) -> Option<f64> {
        s.parse::<f64>().ok()
    }

    fn same(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (None, None) => true,
            _ => false,
        }
    }

    /// How many doubles apart `a` and `b` are (same sign assumed).
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn accepts_and_rejects_what_std_does() {
        let cases = [
            "0",
            "-0",
            "+0",
            "1",
            "-1",
            "35",
            "2.5",
            "0.1",
            ".5",
            "5.",
            "-.5",
            "1e3",
            "1E+3",
            "1e-3",
            "0.30000000000000004",
            "9007199254740993",
            "18446744073709551615",
            "1.7976931348623157e308",
            "5e-324",
            "1e400",
            "-1e400",
            "1e-400",
            "inf",
            "-inf",
            "+Infinity",
            "NaN",
            "nan",
            "INF",
            "",
            ".",
            "-",
            "+",
            "e5",
            "1e",
            "1e+",
            "1.2.3",
            "1..2",
            " 1",
            "1 ",
            "0x10",
            "1_000",
            "infinit",
            "in",
            "--1",
            "+-1",
            "1e5.5",
            "00012",
            "0.000",
            "123456789012345678901234567890",
            "0.1234567890123456789012345",
        ];
        for s in cases {
            let (ours, theirs) = (parse_f64(s), std(s));
            assert!(same(ours, theirs), "{s:?}: ours {ours:?}, std {theirs:?}");
        }
    }

    #[test]
    fn exact_for_the_numbers_servers_send() {
        for s in [
            "0.1",
            "0.2",
            "0.3",
            "10.5",
            "1080",
            "1920",
            "0.35",
            "3.3333333333333335",
            "0.30000000000000004",
            "1234567890123456789",
            "12345678901234567.5",
            "1.2345678901234567e20",
            "4.35",
            "99.99",
            "1e22",
            "1e23",
            "123e-19",
        ] {
            assert!(same(parse_f64(s), std(s)), "{s}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Up to 19 significant digits, any decimal point position, and
        /// an exponent that keeps the integer mantissa's power of ten
        /// within ±19: bit-identical to `std`.
        #[test]
        fn exact_in_the_fast_range(
            mantissa in 1u64..10_000_000_000_000_000_000,
            point in 0usize..20,
            exp in -19i64..=19,
            neg in any::<bool>(),
        ) {
            let digits = mantissa.to_string();
            let point = point.min(digits.len());
            let (int, frac) = digits.split_at(digits.len() - point);
            let int = if int.is_empty() { "0" } else { int };
            // The integer mantissa's exponent is exp - point.
            let exp = exp + point as i64;
            let s = format!("{}{int}.{frac}e{exp}", if neg { "-" } else { "" });
            prop_assert!(same(parse_f64(&s), std(&s)), "{}", s);
        }

        /// Short decimals, written plainly: bit-identical.
        #[test]
        fn exact_for_plain_decimals(int in 0u64..1_000_000_000, frac in 0u64..1_000_000, zeros in 0usize..5) {
            let s = format!("{int}.{}{frac}", "0".repeat(zeros));
            prop_assert!(same(parse_f64(&s), std(&s)), "{}", s);
        }

        /// Any `f64`'s shortest text (what JavaScript and Rust print),
        /// subnormals and the extremes included: it reads back as the same
        /// double, or (near a halfway point, or subnormal) one ULP away.
        #[test]
        fn reads_back_any_double(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            for s in [format!("{x}"), format!("{x:e}")] {
                let ours = parse_f64(&s).unwrap();
                prop_assert!(ulps(ours, x) <= 1, "{} → {}", s, ours);
            }
        }

        /// Long mantissas (more than 19 digits): at most one ULP from `std`.
        #[test]
        fn close_for_long_mantissas(digits in "[1-9][0-9]{19,40}", exp in -350i64..300) {
            let s = format!("{digits}e{exp}");
            let (ours, theirs) = (parse_f64(&s).unwrap(), std(&s).unwrap());
            prop_assert!(ulps(ours, theirs) <= 1, "{} → {} vs {}", s, ours, theirs);
        }
    }
}
