//! Input rules shared by the server (which enforces them) and the UI (which
//! checks them before sending, so people see the reason without a round trip).

use crate::protocol::{InputError, MAX_CHAT_CHARS, MAX_NICKNAME_CHARS, MAX_PASSCODE_CHARS, MAX_ROOM_CHARS};

/// A nickname as stored: trimmed, 1..=32 characters, no control characters.
pub fn normalize_nickname(input: &str) -> Result<String, InputError> {
    let name = input.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_NICKNAME_CHARS || name.chars().any(char::is_control) {
        return Err(InputError::Nickname);
    }
    Ok(name.to_owned())
}

fn is_room_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A room name is used verbatim in `/r/{room}` links, so it is limited to
/// characters that read well in a URL.
pub fn validate_room(input: &str) -> Result<&str, InputError> {
    let len = input.chars().count();
    if len == 0 || len > MAX_ROOM_CHARS || !input.chars().all(is_room_char) {
        return Err(InputError::Room);
    }
    Ok(input)
}

/// Turns what someone typed ("Team Standup!") into a valid room name
/// ("Team-Standup"), or `None` if nothing usable is left.
pub fn room_slug(input: &str) -> Option<String> {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in input.trim().chars() {
        if c.is_whitespace() {
            pending_dash = !out.is_empty();
        } else if is_room_char(c) {
            if pending_dash {
                out.push('-');
                pending_dash = false;
            }
            out.push(c);
        }
    }
    let out: String = out.chars().take(MAX_ROOM_CHARS).collect();
    (!out.is_empty()).then_some(out)
}

/// A passcode as given, or `None` for "no passcode" (absent or blank). Not
/// trimmed: it is a secret, compared exactly.
pub fn normalize_passcode(input: Option<&str>) -> Result<Option<&str>, InputError> {
    match input {
        None => Ok(None),
        Some(p) if p.is_empty() => Ok(None),
        Some(p) if p.chars().count() > MAX_PASSCODE_CHARS || p.chars().any(char::is_control) => {
            Err(InputError::Passcode)
        }
        Some(p) => Ok(Some(p)),
    }
}

/// A chat message must have something besides white space and fit the limit.
pub fn validate_chat(text: &str) -> Result<&str, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::EmptyChat);
    }
    if text.chars().count() > MAX_CHAT_CHARS {
        return Err(InputError::ChatTooLong);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_are_trimmed_and_bounded() {
        assert_eq!(normalize_nickname("  Ada  ").unwrap(), "Ada");
        assert_eq!(normalize_nickname("   "), Err(InputError::Nickname));
        assert_eq!(normalize_nickname(""), Err(InputError::Nickname));
        assert!(normalize_nickname(&"é".repeat(32)).is_ok());
        assert_eq!(normalize_nickname(&"é".repeat(33)), Err(InputError::Nickname));
        assert_eq!(normalize_nickname("a\u{0}b"), Err(InputError::Nickname));
        assert_eq!(normalize_nickname("a\nb"), Err(InputError::Nickname));
    }

    #[test]
    fn passcodes_are_optional_exact_and_bounded() {
        assert_eq!(normalize_passcode(None), Ok(None));
        assert_eq!(normalize_passcode(Some("")), Ok(None));
        assert_eq!(normalize_passcode(Some(" s3cret ")), Ok(Some(" s3cret ")));
        assert!(normalize_passcode(Some(&"p".repeat(64))).is_ok());
        assert_eq!(normalize_passcode(Some(&"p".repeat(65))), Err(InputError::Passcode));
        assert_eq!(normalize_passcode(Some("a\nb")), Err(InputError::Passcode));
    }

    #[test]
    fn room_names_are_url_friendly() {
        assert!(validate_room("standup").is_ok());
        assert!(validate_room("Team-1_a.b").is_ok());
        assert!(validate_room("café").is_ok());
        assert_eq!(validate_room(""), Err(InputError::Room));
        assert_eq!(validate_room("a b"), Err(InputError::Room));
        assert_eq!(validate_room("a/b"), Err(InputError::Room));
        assert_eq!(validate_room("<script>"), Err(InputError::Room));
        assert!(validate_room(&"r".repeat(64)).is_ok());
        assert_eq!(validate_room(&"r".repeat(65)), Err(InputError::Room));
    }

    #[test]
    fn slugs_become_valid_room_names() {
        assert_eq!(room_slug("  Team Standup! ").as_deref(), Some("Team-Standup"));
        assert_eq!(room_slug("a   b\tc").as_deref(), Some("a-b-c"));
        assert_eq!(room_slug("!!!"), None);
        assert_eq!(room_slug("   "), None);
        let long = room_slug(&"x".repeat(100)).unwrap();
        assert_eq!(long.chars().count(), 64);
        for input in ["Hello World", "ünïcode room", "x/y?z"] {
            let slug = room_slug(input).unwrap();
            assert!(validate_room(&slug).is_ok(), "{slug}");
        }
    }

    #[test]
    fn chat_is_bounded() {
        assert!(validate_chat("hello").is_ok());
        assert_eq!(validate_chat("  \n "), Err(InputError::EmptyChat));
        assert!(validate_chat(&"x".repeat(2000)).is_ok());
        assert_eq!(validate_chat(&"x".repeat(2001)), Err(InputError::ChatTooLong));
    }
}
