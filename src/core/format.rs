//! Number formatting for people, with integer arithmetic only.
//!
//! Why not `format!("{:.1}", x)`? Rust's float formatting pulls about 14 KB
//! of code and tables into the wasm build; every figure the client shows
//! (credits, percentages, seconds, file sizes) needs at most a few decimals.

use std::num::NonZeroU64;

/// `v` with at most `max_decimals` decimals, trailing zeros removed:
/// `decimal(2.5, 3)` → `"2.5"`, `decimal(35.0, 1)` → `"35"`,
/// `decimal(-0.04, 1)` → `"0"`. Non-finite values print as `"0"`.
pub fn decimal(v: f64, max_decimals: u32) -> String {
    let mut out = String::new();
    if !v.is_finite() {
        out.push('0');
        return out;
    }
    let decimals = max_decimals.min(9);
    // Never zero; the type says so, so no division-by-zero panic path.
    let scale = NonZeroU64::new(10u64.pow(decimals)).unwrap_or(NonZeroU64::MIN);
    // Beyond 2^53 / scale the fraction is noise anyway: print the integer.
    let scaled = (v.abs() * scale.get() as f64).round();
    if scaled >= 9.0e15 {
        // Rounded and saturated to the `i128` range (what this printed
        // when it went through `i128`'s `Display`, whose 128-bit division
        // cost about 1.5 KB of wasm).
        let whole = v.round();
        if whole < 0.0 {
            out.push('-');
        }
        push_whole(whole.abs(), whole < 0.0, &mut out);
        return out;
    }
    let scaled = scaled as u64;
    let (whole, mut frac) = (scaled / scale, scaled % scale);
    if v < 0.0 && scaled != 0 {
        out.push('-');
    }
    push_digits(whole, 1, &mut out);
    if frac != 0 {
        let mut width = decimals as usize;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        out.push('.');
        push_digits(frac, width, &mut out);
    }
    out
}

/// Appends the digits of `n`, zero-padded to at least `min_width`.
pub fn push_digits(n: u64, min_width: usize, out: &mut String) {
    let (buf, start) = digits(n, min_width);
    for &b in buf.iter().skip(start) {
        out.push(char::from(b));
    }
}

/// The decimal digits of `n` at the end of a buffer, and where they start.
fn digits(mut n: u64, min_width: usize) -> ([u8; 20], usize) {
    // u64::MAX has 20 digits.
    let mut buf = [b'0'; 20];
    let mut len = 0;
    for slot in buf.iter_mut().rev() {
        if n == 0 && len >= min_width {
            break;
        }
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    (buf, buf.len() - len)
}

/// An integer for `format!` that prints through [`push_digits`]' digit
/// loop: `format!("HTTP {}", Int::from(status))`.
///
/// Why: `core` has a separate `Display` for each integer type (about
/// 250 B of wasm each); routing `u16`, `u64` and `i64` through one small
/// impl lets those go. Width and precision flags are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int {
    negative: bool,
    magnitude: u64,
}

impl From<u64> for Int {
    fn from(n: u64) -> Self {
        Int {
            negative: false,
            magnitude: n,
        }
    }
}

impl From<u32> for Int {
    fn from(n: u32) -> Self {
        Int::from(u64::from(n))
    }
}

impl From<u16> for Int {
    fn from(n: u16) -> Self {
        Int::from(u64::from(n))
    }
}

impl From<usize> for Int {
    fn from(n: usize) -> Self {
        Int::from(n as u64)
    }
}

impl From<i64> for Int {
    fn from(n: i64) -> Self {
        Int {
            negative: n < 0,
            magnitude: n.unsigned_abs(),
        }
    }
}

impl std::fmt::Display for Int {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        if self.negative {
            f.write_char('-')?;
        }
        let (buf, start) = digits(self.magnitude, 1);
        for &b in buf.iter().skip(start) {
            f.write_char(char::from(b))?;
        }
        Ok(())
    }
}

/// Appends a whole, non-negative `x`, saturated at `i128::MAX` (or, when
/// `negative`, at `i128::MIN`'s magnitude, 2^127).
fn push_whole(x: f64, negative: bool, out: &mut String) {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    const TWO_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if x < TWO_64 {
        push_digits(x as u64, 1, out);
    } else if x >= TWO_127 {
        out.push_str(if negative {
            "170141183460469231731687303715884105728"
        } else {
            "170141183460469231731687303715884105727"
        });
    } else {
        // 2^64 ≤ x < 2^127, an integer: exact as u128. Split it into
        // 19-digit chunks with 64-bit long division.
        const P: NonZeroU64 = NonZeroU64::new(10_000_000_000_000_000_000).unwrap();
        let n = x as u128;
        let (q, low) = crate::core::number::div_wide((n >> 64) as u64, n as u64, P);
        // q < 2^127 / 10^19 < 2^64.
        let (high, mid) = (q / P, q % P);
        if high > 0 {
            push_digits(high, 1, out);
            push_digits(mid, 19, out);
        } else {
            push_digits(mid, 1, out);
        }
        push_digits(low, 19, out);
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;
    use proptest::prelude::*;

    /// What `decimal` did before it avoided `i128`'s `Display`.
    fn reference(v: f64, max_decimals: u32) -> String {
        if !v.is_finite() {
            return "0".into();
        }
        let decimals = max_decimals.min(9);
        let scale = 10u64.pow(decimals);
        let scaled = (v.abs() * scale as f64).round();
        if scaled >= 9.0e15 {
            return (v.round() as i128).to_string();
        }
        let scaled = scaled as u64;
        let (whole, mut frac) = (scaled / scale, scaled % scale);
        let mut out = String::new();
        if v < 0.0 && scaled != 0 {
            out.push('-');
        }
        out.push_str(&whole.to_string());
        if frac != 0 {
            let mut width = decimals as usize;
            while frac % 10 == 0 {
                frac /= 10;
                width -= 1;
            }
            let digits = frac.to_string();
            out.push('.');
            for _ in digits.len()..width {
                out.push('0');
            }
            out.push_str(&digits);
        }
        out
    }

    #[test]
    fn huge_values_print_like_i128() {
        let two = |e: i32| 2f64.powi(e);
        for v in [
            9.0e15,
            1e16,
            1e19,
            1.8446744073709552e19,
            two(64),
            two(64) + 4096.0,
            1e20,
            1.5e30,
            1e38,
            two(127) - two(74),
            two(127),
            1e300,
            f64::MAX,
        ] {
            for x in [v, -v] {
                for d in [0, 1, 9] {
                    assert_eq!(decimal(x, d), reference(x, d), "decimal({x}, {d})");
                }
            }
        }
    }

    #[test]
    fn int_prints_like_display() {
        for n in [0i64, 1, -1, 9, 10, 429, -2001, i64::MAX, i64::MIN] {
            assert_eq!(super::Int::from(n).to_string(), n.to_string());
        }
        for n in [0u64, 7, 1000, u64::MAX] {
            assert_eq!(super::Int::from(n).to_string(), n.to_string());
        }
        assert_eq!(super::Int::from(404u16).to_string(), "404");
    }

    proptest! {
        #[test]
        fn int_matches_display(n in any::<i64>(), u in any::<u64>()) {
            prop_assert_eq!(super::Int::from(n).to_string(), n.to_string());
            prop_assert_eq!(super::Int::from(u).to_string(), u.to_string());
        }

        #[test]
        fn same_as_before(bits in any::<u64>(), d in 0u32..12) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(decimal(v, d), reference(v, d));
        }

        #[test]
        fn same_as_before_for_everyday_values(v in -1.0e7f64..1.0e7, d in 0u32..12) {
            prop_assert_eq!(decimal(v, d), reference(v, d));
        }
    }

    #[test]
    fn formats_like_people_write_numbers() {
        let table = [
            (2.5, 3, "2.5"),
            (35.0, 1, "35"),
            (0.05, 1, "0.1"),
            (-0.04, 1, "0"),
            (-2.25, 2, "-2.25"),
            (1.005, 3, "1.005"),
            (0.001, 3, "0.001"),
            (10.25, 1, "10.3"),
            (100.0, 0, "100"),
            (3.0e20, 2, "300000000000000000000"),
            (f64::NAN, 2, "0"),
        ];
        for (v, d, want) in table {
            assert_eq!(decimal(v, d), want, "decimal({v}, {d})");
        }
    }
}
