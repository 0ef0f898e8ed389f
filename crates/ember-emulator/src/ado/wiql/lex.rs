//! The WIQL lexer: query text to tokens (bracketed field names, quoted
//! strings, numbers, `@` macros, operators and words), and the token tests
//! the parser asks (is this word a keyword, is it this word).

use super::{err, WiqlError};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Field(String),
    Str(String),
    Num(String),
    Macro(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Other,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) text: String,
}

pub(super) fn lex(src: &str) -> Result<Vec<Token>, WiqlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            '[' => {
                let end = chars[i..].iter().position(|&c| c == ']').map(|p| i + p);
                let Some(end) = end else {
                    return Err(err("Expecting ']'.", &text(i, chars.len())));
                };
                i = end + 1;
                Tok::Field(text(start + 1, end))
            }
            '\'' | '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err("Expecting closing quote.", &text(start, i))),
                        Some(&q) if q == c => {
                            if chars.get(i + 1) == Some(&c) {
                                value.push(c);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                Tok::Str(value)
            }
            '@' => {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                Tok::Macro(text(start + 1, i).to_ascii_lowercase())
            }
            '(' | ')' | ',' | '+' | '-' => {
                i += 1;
                match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    '+' => Tok::Plus,
                    _ => Tok::Minus,
                }
            }
            '<' | '>' | '=' | '!' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => ("<>", 2),
                    ('!', Some('=')) => ("<>", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', _) => ("<", 1),
                    ('>', _) => (">", 1),
                    ('=', _) => ("=", 1),
                    _ => ("", 1),
                };
                i += len;
                if op.is_empty() {
                    Tok::Other
                } else {
                    Tok::Op(op)
                }
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                Tok::Num(text(start, i))
            }
            c if c.is_alphanumeric() || c == '_' => {
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                Tok::Word(text(start, i))
            }
            _ => {
                i += 1;
                Tok::Other
            }
        };
        out.push(Token {
            tok,
            text: text(start, i),
        });
    }
    Ok(out)
}

pub(super) fn is_word(t: Option<&Token>, word: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(word))
}

pub(super) fn is_keyword(w: &str) -> bool {
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "ORDER", "BY", "ASC", "DESC",
        "CONTAINS", "UNDER", "EVER", "ASOF", "MODE",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(w))
}
