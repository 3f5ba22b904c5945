//! Keeps `docs/PROTOCOL.md` true to `app/src/protocol.rs`: every message
//! type, signal payload kind and error code is documented, and every example
//! decodes as the message its heading names. The names come from serde
//! itself (its "unknown variant" error lists them), not from a list kept by
//! hand, so a new variant fails this test until it is documented.

use app::protocol::{decode_client, decode_server, encode, ClientMsg, ErrorCode, ServerMsg, SignalPayload};

const DOC: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md"));
const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));

const CLIENT_SECTION: &str = "Client → server";
const SERVER_SECTION: &str = "Server → client";
const PAYLOAD_SECTION: &str = "Signal payloads";
const ERROR_SECTION: &str = "Error codes";

const BOGUS: &str = "__no_such__";

// ---------------------------------------------------------------------------
// The names, from serde

/// The variant names in serde's "unknown variant `__no_such__`, expected one
/// of `a`, `b`, ..." error. Fails loudly if the wording changed so that
/// fewer than `at_least` names come out.
fn names_from_error(what: &str, err: impl std::fmt::Display, at_least: usize) -> Vec<String> {
    let text = err.to_string();
    let marker = format!("unknown variant `{BOGUS}`");
    let Some((_, rest)) = text.split_once(&marker) else {
        panic!(
            "decoding a bogus {what} tag gave no \"{marker}\" error: {text:?}; has serde's wording changed?"
        );
    };
    // ", expected one of `a`, `b` at line 1 column 22": the odd pieces
    // between backticks are the names.
    let names: Vec<String> = rest.split('`').skip(1).step_by(2).map(str::to_owned).collect();
    for name in &names {
        assert!(
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{what}: {name:?} does not look like a snake_case tag; parsed from {text:?}"
        );
    }
    assert!(
        names.len() >= at_least,
        "{what}: found only {} names ({names:?}) in {text:?}; has serde's wording changed?",
        names.len()
    );
    names
}

fn client_tags() -> Vec<String> {
    let err = serde_json::from_str::<ClientMsg>(&format!(r#"{{"type":"{BOGUS}"}}"#)).unwrap_err();
    names_from_error("ClientMsg", err, 8)
}

fn server_tags() -> Vec<String> {
    let err = decode_server(&format!(r#"{{"type":"{BOGUS}"}}"#)).unwrap_err();
    names_from_error("ServerMsg", err, 8)
}

fn payload_kinds() -> Vec<String> {
    let err = serde_json::from_str::<SignalPayload>(&format!(r#"{{"kind":"{BOGUS}"}}"#)).unwrap_err();
    names_from_error("SignalPayload", err, 2)
}

fn error_codes() -> Vec<String> {
    let err = serde_json::from_str::<ErrorCode>(&format!(r#""{BOGUS}""#)).unwrap_err();
    names_from_error("ErrorCode", err, 8)
}

#[test]
fn the_names_found_agree_with_the_protocol_module() {
    // A check of the parsing above against what protocol.rs lists itself.
    let mut from_serde = client_tags();
    from_serde.sort();
    let mut listed: Vec<String> = ClientMsg::TYPES.iter().map(|t| t.to_string()).collect();
    listed.sort();
    assert_eq!(from_serde, listed, "serde's ClientMsg tags differ from ClientMsg::TYPES");
    assert_eq!(server_tags().len(), ServerMsg::VARIANTS.len(), "ServerMsg tags vs ServerMsg::VARIANTS");
    assert_eq!(payload_kinds().len(), SignalPayload::VARIANTS.len(), "SignalPayload kinds vs VARIANTS");
    for code in error_codes() {
        let parsed: ErrorCode = serde_json::from_str(&format!("\"{code}\"")).unwrap();
        assert_eq!(parsed.as_str(), code);
    }
}

// ---------------------------------------------------------------------------
// The document, as sections, headings and code blocks

struct Block {
    line: usize,
    lang: String,
    text: String,
}

struct Sub {
    line: usize,
    heading: String,
    blocks: Vec<Block>,
}

impl Sub {
    /// The heading's tag when it is exactly "`tag`".
    fn tag(&self) -> Option<&str> {
        let inner = self.heading.strip_prefix('`')?.strip_suffix('`')?;
        (!inner.is_empty() && !inner.contains('`')).then_some(inner)
    }

    fn first_json(&self) -> Option<&Block> {
        self.blocks.iter().find(|b| b.lang == "json")
    }
}

struct Section {
    title: String,
    /// Everything under the `##` heading, code included.
    text: String,
    /// Blocks before the first `###`.
    blocks: Vec<Block>,
    subs: Vec<Sub>,
}

impl Section {
    fn new(title: &str) -> Self {
        Section { title: title.trim().to_owned(), text: String::new(), blocks: Vec::new(), subs: Vec::new() }
    }

    fn all_blocks(&self) -> impl Iterator<Item = &Block> {
        self.blocks.iter().chain(self.subs.iter().flat_map(|s| s.blocks.iter()))
    }
}

fn parse(doc: &str) -> Vec<Section> {
    let mut sections = vec![Section::new("")];
    let mut fence: Option<Block> = None;
    for (i, line) in doc.lines().enumerate() {
        let number = i + 1;
        let section = sections.last_mut().expect("one at least");
        let trimmed = line.trim_start();
        if let Some(open) = fence.as_mut() {
            if trimmed.starts_with("```") {
                let block = fence.take().expect("open");
                match section.subs.last_mut() {
                    Some(sub) => sub.blocks.push(block),
                    None => section.blocks.push(block),
                }
            } else {
                open.text.push_str(line);
                open.text.push('\n');
            }
            section.text.push_str(line);
            section.text.push('\n');
            continue;
        }
        if let Some(lang) = trimmed.strip_prefix("```") {
            fence = Some(Block { line: number, lang: lang.trim().to_owned(), text: String::new() });
        } else if let Some(title) = line.strip_prefix("## ") {
            sections.push(Section::new(title));
            continue;
        } else if let Some(heading) = line.strip_prefix("### ") {
            section.subs.push(Sub { line: number, heading: heading.trim().to_owned(), blocks: vec![] });
        }
        section.text.push_str(line);
        section.text.push('\n');
    }
    assert!(fence.is_none(), "docs/PROTOCOL.md: a code block is never closed");
    sections
}

fn section<'a>(sections: &'a [Section], title: &str) -> &'a Section {
    sections.iter().find(|s| s.title == title).unwrap_or_else(|| {
        let titles: Vec<&str> = sections.iter().map(|s| s.title.as_str()).collect();
        panic!("docs/PROTOCOL.md has no section \"## {title}\" (it has {titles:?})")
    })
}

// ---------------------------------------------------------------------------
// Decoding the examples

enum Msg {
    Client(ClientMsg),
    Server(ServerMsg),
}

type Decode = fn(&str) -> Result<Msg, String>;

fn as_client(text: &str) -> Result<Msg, String> {
    decode_client(text).map(Msg::Client).map_err(|e| format!("not a ClientMsg: {e}"))
}

fn as_server(text: &str) -> Result<Msg, String> {
    decode_server(text).map(Msg::Server).map_err(|e| format!("not a ServerMsg: {e}"))
}

fn as_either(text: &str) -> Result<Msg, String> {
    as_client(text).or_else(|c| as_server(text).map_err(|s| format!("{c}; {s}")))
}

/// A string field of an encoded value.
fn field(encoded: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(encoded).expect("our encoder writes JSON");
    value[name].as_str().unwrap_or_default().to_owned()
}

/// The wire `type` of a decoded message, as our encoder writes it.
fn type_of(msg: &Msg) -> String {
    match msg {
        Msg::Client(m) => field(&encode(m), "type"),
        Msg::Server(m) => field(&encode(m), "type"),
    }
}

/// The payload's `kind`, if the message is a `signal`.
fn kind_of(msg: &Msg) -> Option<String> {
    match msg {
        Msg::Client(ClientMsg::Signal { payload, .. }) | Msg::Server(ServerMsg::Signal { payload, .. }) => {
            Some(field(&encode(payload), "kind"))
        }
        _ => None,
    }
}

fn fail_if_any(problems: Vec<String>, what: &str) {
    assert!(
        problems.is_empty(),
        "docs/PROTOCOL.md {what}:\n  {}\n(see app/src/protocol.rs)",
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------------------
// The checks

#[test]
fn every_message_type_payload_kind_and_error_code_is_documented() {
    let sections = parse(DOC);
    let mut missing = Vec::new();
    for (title, names) in
        [(CLIENT_SECTION, client_tags()), (SERVER_SECTION, server_tags()), (PAYLOAD_SECTION, payload_kinds())]
    {
        let documented: Vec<&str> = section(&sections, title).subs.iter().filter_map(Sub::tag).collect();
        for name in names {
            if !documented.contains(&name.as_str()) {
                missing.push(format!("no heading \"### `{name}`\" under \"## {title}\""));
            }
        }
    }
    let errors = section(&sections, ERROR_SECTION);
    for code in error_codes() {
        if !errors.text.contains(&format!("`{code}`")) {
            missing.push(format!("error code `{code}` is not in \"## {ERROR_SECTION}\""));
        }
    }
    fail_if_any(missing, "misses part of the protocol");
}

#[test]
fn every_heading_names_a_real_tag_and_its_example_is_one() {
    let sections = parse(DOC);
    let mut problems = Vec::new();
    let groups = [
        (CLIENT_SECTION, client_tags(), as_client as Decode),
        (SERVER_SECTION, server_tags(), as_server as Decode),
        (PAYLOAD_SECTION, payload_kinds(), as_either as Decode),
    ];
    for (title, names, decode) in groups {
        for sub in &section(&sections, title).subs {
            let at = format!("line {} (\"### {}\" under \"## {title}\")", sub.line, sub.heading);
            let Some(tag) = sub.tag() else {
                problems.push(format!("{at}: heading is not a tag in backticks"));
                continue;
            };
            if !names.iter().any(|n| n == tag) {
                problems.push(format!("{at}: `{tag}` is not a tag of the protocol (it has {names:?})"));
                continue;
            }
            let Some(block) = sub.first_json() else {
                problems.push(format!("{at}: no ```json example"));
                continue;
            };
            let msg = match decode(&block.text) {
                Ok(msg) => msg,
                Err(e) => {
                    problems.push(format!("{at}: the example at line {} does not decode: {e}", block.line));
                    continue;
                }
            };
            if title == PAYLOAD_SECTION {
                match kind_of(&msg) {
                    Some(kind) if kind == tag => {}
                    Some(kind) => problems
                        .push(format!("{at}: the example at line {} carries a `{kind}` payload", block.line)),
                    None => problems.push(format!(
                        "{at}: the example at line {} is a `{}`, not a `signal`",
                        block.line,
                        type_of(&msg)
                    )),
                }
            } else {
                let found = type_of(&msg);
                if found != tag {
                    problems.push(format!("{at}: the example at line {} is a `{found}`", block.line));
                }
            }
        }
    }
    fail_if_any(problems, "has examples that drifted");
}

#[test]
fn every_json_block_is_a_complete_message() {
    let sections = parse(DOC);
    let mut problems = Vec::new();
    let mut count = 0;
    for section in &sections {
        let decode: Decode = match section.title.as_str() {
            CLIENT_SECTION => as_client,
            SERVER_SECTION => as_server,
            _ => as_either,
        };
        for block in section.all_blocks().filter(|b| b.lang == "json") {
            count += 1;
            if let Err(e) = decode(&block.text) {
                problems.push(format!("line {} (under \"## {}\"): {e}", block.line, section.title));
            }
        }
    }
    fail_if_any(problems, "has ```json blocks that are not messages");
    assert!(
        count >= client_tags().len() + server_tags().len(),
        "docs/PROTOCOL.md: only {count} json examples"
    );
}

#[test]
fn the_readme_points_to_the_protocol_document() {
    assert!(README.contains("](docs/PROTOCOL.md)"), "README.md does not link docs/PROTOCOL.md");
}
