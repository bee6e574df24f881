//! Number formatting for people, with integer arithmetic only.
//!
//! Why not `format!("{:.1}", x)`? Rust's float formatting pulls about 14 KB
//! of code and tables into the wasm build; every figure the client shows
//! (credits, percentages, seconds, file sizes) needs at most a few decimals.

/// `v` with at most `max_decimals` decimals, trailing zeros removed:
/// `decimal(2.5, 3)` → `"2.5"`, `decimal(35.0, 1)` → `"35"`,
/// `decimal(-0.04, 1)` → `"0"`. Non-finite values print as `"0"`.
pub fn decimal(v: f64, max_decimals: u32) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let decimals = max_decimals.min(9);
    let scale = 10u64.pow(decimals);
    // Beyond 2^53 / scale the fraction is noise anyway: print the integer.
    let scaled = (v.abs() * scale as f64).round();
    if scaled >= 9.0e15 {
        let whole = v.round();
        return itoa_i128(whole as i128);
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

fn itoa_i128(n: i128) -> String {
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::decimal;

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
