//! A parser for the Python list literals that OpinionQA's `info.csv` stores in its cells
//! (`['Yes', "No, it's not"]`, `[1.0, 2.0, 1.5]`).

/// One element of a parsed list.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// A quoted string, with escapes resolved.
    Str(String),
    /// A number.
    Num(f64),
}

/// Parses a flat Python list of strings and numbers. Returns a message on malformed input.
pub fn parse_list(text: &str) -> Result<Vec<PyValue>, String> {
    let chars: Vec<char> = text.trim().chars().collect();
    if chars.first() != Some(&'[') || chars.last() != Some(&']') {
        return Err(format!("expected a list in brackets, found {text:?}"));
    }
    let mut values = Vec::new();
    let mut i = 1;
    let end = chars.len() - 1;
    loop {
        while i < end && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        if i >= end {
            break;
        }
        let c = chars[i];
        if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                if i >= end {
                    return Err(format!("unterminated string in {text:?}"));
                }
                match chars[i] {
                    '\\' if i + 1 < end => {
                        i += 1;
                        s.push(match chars[i] {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    q if q == c => break,
                    other => s.push(other),
                }
                i += 1;
            }
            i += 1;
            values.push(PyValue::Str(s));
        } else {
            let start = i;
            while i < end && chars[i] != ',' {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            let token = token.trim();
            let number = match token {
                "nan" | "NaN" => f64::NAN,
                _ => token
                    .parse::<f64>()
                    .map_err(|_| format!("{token:?} is not a number or string"))?,
            };
            values.push(PyValue::Num(number));
        }
    }
    Ok(values)
}

/// Parses a list that must hold only strings.
pub fn parse_strings(text: &str) -> Result<Vec<String>, String> {
    parse_list(text)?
        .into_iter()
        .map(|v| match v {
            PyValue::Str(s) => Ok(s),
            PyValue::Num(n) => Err(format!("expected strings, found the number {n}")),
        })
        .collect()
}

/// Parses a list that must hold only numbers.
pub fn parse_numbers(text: &str) -> Result<Vec<f64>, String> {
    parse_list(text)?
        .into_iter()
        .map(|v| match v {
            PyValue::Num(n) => Ok(n),
            PyValue::Str(s) => Err(format!("expected numbers, found the string {s:?}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_escapes_and_numbers() {
        assert_eq!(
            parse_strings(r#"['Yes, it is', "It's not", 'a\'b']"#).unwrap(),
            vec!["Yes, it is", "It's not", "a'b"]
        );
        assert_eq!(
            parse_numbers("[1.0, 2.0, 1.5]").unwrap(),
            vec![1.0, 2.0, 1.5]
        );
        assert_eq!(parse_numbers("[]").unwrap(), Vec::<f64>::new());
        assert!(parse_strings("['open").is_err());
        assert!(parse_numbers("[1.0, x]").is_err());
        assert!(parse_strings("nope").is_err());
    }
}
