//! Input rules shared by the server (which enforces them) and the UI (which
//! checks them before sending, so people see the reason without a round trip).

use crate::protocol::{InputError, MAX_CHAT_CHARS, MAX_NICKNAME_CHARS, MAX_PASSCODE_CHARS, MAX_ROOM_CHARS};

/// Unicode's composed form (NFC), so that "é" typed on two systems is one
/// name. The browser asks its own `String.normalize`, which costs the wasm
/// nothing; native code (the server, unit tests) uses the tables.
pub fn nfc(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).normalize("NFC"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use unicode_normalization::UnicodeNormalization;
        text.nfc().collect()
    }
}

/// Characters that change how text is shown without showing themselves:
/// Unicode's format characters (bidi overrides and isolates, zero-width
/// space and joiners, invisible operators, tags). Listed by range: the
/// general-category tables would weigh on the wasm.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Shows nothing by itself: white space, format characters, fillers that
/// render as blanks, and marks that only modify a neighbour.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || is_format(c)
        || matches!(c,
            '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{2800}'
            | '\u{3164}' | '\u{FFA0}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}'
            | '\u{0300}'..='\u{036F}' | '\u{20D0}'..='\u{20FF}')
}

/// True when a person would see nothing at all.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// A nickname as stored: trimmed, NFC, 1..=32 characters, something
/// visible, and no control or format characters (a bidi override or a
/// zero-width space lets one name pass for another). The one exception is
/// the zero-width joiner inside an emoji sequence (👩‍💻), which keeps its
/// visible neighbours.
pub fn normalize_nickname(input: &str) -> Result<String, InputError> {
    let name = nfc(input.trim());
    let chars: Vec<char> = name.chars().collect();
    let len = chars.len();
    let joins_emoji =
        |i: usize| i > 0 && i + 1 < chars.len() && !is_invisible(chars[i - 1]) && !is_invisible(chars[i + 1]);
    let bad = chars
        .iter()
        .enumerate()
        .any(|(i, &c)| c.is_control() || (is_format(c) && !(c == '\u{200D}' && joins_emoji(i))));
    if len == 0 || len > MAX_NICKNAME_CHARS || bad || is_blank(&name) {
        return Err(InputError::Nickname);
    }
    Ok(name)
}

/// What two nicknames are compared by when a room makes them unique: case
/// and joiners or variation selectors do not make a name different.
pub fn nickname_key(name: &str) -> String {
    name.chars().filter(|c| !is_invisible(*c)).flat_map(char::to_lowercase).collect()
}

/// `name`, or `name (2)`, `name (3)`… whichever no one in `taken` has,
/// shortened if needed to stay within the nickname limit.
pub fn unique_nickname<'a>(name: &str, taken: impl Iterator<Item = &'a str> + Clone) -> String {
    let is_taken = |candidate: &str| {
        let key = nickname_key(candidate);
        taken.clone().any(|t| nickname_key(t) == key)
    };
    if !is_taken(name) {
        return name.to_owned();
    }
    (2..)
        .map(|n| {
            let suffix = format!(" ({n})");
            let room = MAX_NICKNAME_CHARS.saturating_sub(suffix.chars().count());
            let base: String = name.chars().take(room).collect();
            format!("{}{suffix}", base.trim_end())
        })
        .find(|candidate| !is_taken(candidate))
        .expect("some number is free")
}

fn is_room_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// The alphabets whose letters are confused with each other ("а" Cyrillic,
/// "a" Latin); a room name may use any one of them, not a mix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
}

fn script(c: char) -> Option<Script> {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' => Some(Script::Latin),
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(Script::Greek),
        '\u{0400}'..='\u{052F}'
        | '\u{1C80}'..='\u{1C8F}'
        | '\u{2DE0}'..='\u{2DFF}'
        | '\u{A640}'..='\u{A69F}' => Some(Script::Cyrillic),
        _ => None,
    }
}

fn mixes_confusable_scripts(name: &str) -> bool {
    let mut scripts = name.chars().filter_map(script);
    let first = scripts.next();
    scripts.any(|s| Some(s) != first)
}

/// A room name is used verbatim in `/r/{room}` links, so it is limited to
/// characters that read well in a URL; it must be in NFC (one spelling per
/// name), not only dots (`.` and `..` are path segments), and not mix
/// look-alike alphabets.
pub fn validate_room(input: &str) -> Result<&str, InputError> {
    let len = input.chars().count();
    if len == 0
        || len > MAX_ROOM_CHARS
        || !input.chars().all(is_room_char)
        || input.chars().all(|c| c == '.')
        || mixes_confusable_scripts(input)
        || nfc(input) != input
    {
        return Err(InputError::Room);
    }
    Ok(input)
}

/// Turns what someone typed ("Team Standup!") into a valid room name
/// ("Team-Standup"), or `None` if nothing usable is left.
pub fn room_slug(input: &str) -> Option<String> {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in nfc(input.trim()).chars() {
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
    (!out.is_empty() && !out.chars().all(|c| c == '.')).then_some(out)
}

/// A passcode as given, or `None` for "no passcode" (absent or blank). Not
/// trimmed: it is a secret, compared exactly.
pub fn normalize_passcode(input: Option<&str>) -> Result<Option<&str>, InputError> {
    match input {
        None | Some("") => Ok(None),
        Some(p) if p.chars().count() > MAX_PASSCODE_CHARS || p.chars().any(char::is_control) => {
            Err(InputError::Passcode)
        }
        Some(p) => Ok(Some(p)),
    }
}

/// A chat message must have something visible and fit the limit.
pub fn validate_chat(text: &str) -> Result<&str, InputError> {
    if is_blank(text) {
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
    fn nicknames_cannot_be_invisible_or_reorder_text() {
        for input in
            ["\u{200B}", "\u{200B}\u{200C}\u{FEFF}", "\u{202E}", "\u{3164}\u{3164}", "\u{2800}", " \u{034F} "]
        {
            assert_eq!(normalize_nickname(input), Err(InputError::Nickname), "{input:?}");
        }
        // A bidi override or zero-width space hidden in a real name.
        assert_eq!(normalize_nickname("Ada\u{202E}nimda"), Err(InputError::Nickname));
        assert_eq!(normalize_nickname("A\u{200B}da"), Err(InputError::Nickname));
        assert_eq!(normalize_nickname("\u{2066}Ada\u{2069}"), Err(InputError::Nickname));
        // Emoji sequences keep their joiner; RTL scripts are fine.
        assert_eq!(normalize_nickname("👩\u{200D}💻 Lin").unwrap(), "👩\u{200D}💻 Lin");
        assert!(normalize_nickname("מרים").is_ok());
        assert!(normalize_nickname("Zoë").is_ok());
    }

    #[test]
    fn names_are_stored_composed() {
        let decomposed = "Zoe\u{0308}";
        assert_eq!(normalize_nickname(decomposed).unwrap(), "Zo\u{00EB}");
        assert_eq!(validate_room("cafe\u{0301}"), Err(InputError::Room));
        assert_eq!(room_slug("cafe\u{0301}").as_deref(), Some("caf\u{00E9}"));
    }

    #[test]
    fn names_in_a_room_are_made_unique() {
        let taken = ["Ada", "Bob", "Bob (2)"];
        let taken = || taken.iter().copied();
        assert_eq!(unique_nickname("Cy", taken()), "Cy");
        assert_eq!(unique_nickname("Ada", taken()), "Ada (2)");
        assert_eq!(unique_nickname("ADA", taken()), "ADA (2)", "case does not make a name different");
        assert_eq!(unique_nickname("Bob", taken()), "Bob (3)");
        let long = "x".repeat(MAX_NICKNAME_CHARS);
        let unique = unique_nickname(&long, [long.as_str()].into_iter());
        assert_eq!(unique.chars().count(), MAX_NICKNAME_CHARS);
        assert!(unique.ends_with(" (2)"));
        assert!(normalize_nickname(&unique).is_ok());
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
    fn room_names_are_not_paths_nor_look_alikes() {
        for name in [".", "..", "...."] {
            assert_eq!(validate_room(name), Err(InputError::Room), "{name}");
            assert_eq!(room_slug(name), None);
        }
        assert!(validate_room("v1.2").is_ok());
        // "standup" with a Cyrillic "а" and a Greek "ο".
        assert_eq!(validate_room("st\u{0430}ndup"), Err(InputError::Room));
        assert_eq!(validate_room("r\u{03BF}om"), Err(InputError::Room));
        // One alphabet at a time is fine, with digits and other scripts.
        assert!(validate_room("стендап").is_ok());
        assert!(validate_room("συνάντηση-2").is_ok());
        assert!(validate_room("会議-standup").is_ok());
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
        assert_eq!(validate_chat("\u{200B}\u{200B}"), Err(InputError::EmptyChat));
        assert_eq!(validate_chat("\u{3164}"), Err(InputError::EmptyChat));
        assert!(validate_chat("🙂").is_ok());
        assert!(validate_chat(&"x".repeat(2000)).is_ok());
        assert_eq!(validate_chat(&"x".repeat(2001)), Err(InputError::ChatTooLong));
    }
}
