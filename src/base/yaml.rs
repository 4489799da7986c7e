//! A YAML document as a tree of positioned nodes, built from the event parser that
//! `serde-saphyr` uses (granit-parser). Scalars keep their source text (`3.10` stays `3.10`),
//! aliases are expanded and `<<` merge keys applied, and every node knows its line and column.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, ScanError};

use super::diagnostic::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `~`, `null` or nothing at all.
    Null,
    /// Any scalar, as text. `plain` is false for quoted and block scalars.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order, merge keys applied.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Span,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing",
            Kind::Scalar { .. } => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

impl From<ScanError> for SyntaxError {
    fn from(err: ScanError) -> Self {
        let marker = err.marker();
        SyntaxError {
            message: err.info(),
            span: Span::new(marker.line().max(1), marker.col() + 1, 1),
        }
    }
}

/// Parses the first document of `text`. An empty document is `Null`.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    for next in Parser::new_from_str(text) {
        let (event, span) = next?;
        let at = Span::new(
            span.start.line().max(1),
            span.start.col() + 1,
            span.end.index().saturating_sub(span.start.index()),
        );
        match event {
            Event::Scalar(value, style, anchor, _) => {
                let kind = scalar_kind(&value, style);
                builder.push(Node { kind, span: at }, anchor);
            }
            Event::SequenceStart(_, anchor, _) => builder.open(Frame::Seq(Vec::new()), at, anchor),
            Event::MappingStart(_, anchor, _) => {
                builder.open(Frame::Map(Vec::new(), None), at, anchor)
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
            Event::Alias(id) => {
                let node = builder
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| SyntaxError {
                        message: "alias refers to an unknown anchor".to_owned(),
                        span: at,
                    })?;
                builder.push(node, 0);
            }
            Event::UnresolvedAlias(name) => {
                return Err(SyntaxError {
                    message: format!(
                        "alias `*{name}` has no anchor; a pattern starting with `*` must be quoted"
                    ),
                    span: at,
                });
            }
            Event::DocumentEnd if builder.root.is_some() => break,
            _ => {}
        }
    }
    Ok(builder.root.unwrap_or(Node {
        kind: Kind::Null,
        span: Span::new(1, 1, 1),
    }))
}

fn scalar_kind(value: &str, style: ScalarStyle) -> Kind {
    let plain = style == ScalarStyle::Plain;
    if plain && matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        Kind::Null
    } else {
        Kind::Scalar {
            text: value.to_owned(),
            plain,
        }
    }
}

enum Frame {
    Seq(Vec<Node>),
    /// Entries so far, and a key waiting for its value.
    Map(Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Frame, Span, usize)>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
}

impl Builder {
    fn open(&mut self, frame: Frame, span: Span, anchor: usize) {
        self.stack.push((frame, span, anchor));
    }

    fn close(&mut self) -> Result<(), SyntaxError> {
        let Some((frame, span, anchor)) = self.stack.pop() else {
            return Ok(());
        };
        let kind = match frame {
            Frame::Seq(items) => Kind::Seq(items),
            Frame::Map(entries, _) => Kind::Map(apply_merges(entries)?),
        };
        self.push(Node { kind, span }, anchor);
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((Frame::Seq(items), _, _)) => items.push(node),
            Some((Frame::Map(entries, pending), _, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
}

/// Applies `<<: *anchor` and `<<: [*a, *b]`: merged keys never override explicit ones, and an
/// earlier source wins over a later one.
fn apply_merges(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, SyntaxError> {
    let is_merge =
        |key: &Node| matches!(&key.kind, Kind::Scalar { text, plain: true } if text == "<<");
    if !entries.iter().any(|(key, _)| is_merge(key)) {
        return Ok(entries);
    }
    let mut explicit = Vec::new();
    let mut sources = Vec::new();
    for (key, value) in entries {
        if !is_merge(&key) {
            explicit.push((key, value));
            continue;
        }
        match value.kind {
            Kind::Map(map) => sources.push(map),
            Kind::Seq(items) => {
                for item in items {
                    match item.kind {
                        Kind::Map(map) => sources.push(map),
                        _ => return Err(merge_error(item.span)),
                    }
                }
            }
            _ => return Err(merge_error(value.span)),
        }
    }
    let mut merged = explicit;
    for source in sources {
        for (key, value) in source {
            if !merged
                .iter()
                .any(|(existing, _)| existing.as_str() == key.as_str())
            {
                merged.push((key, value));
            }
        }
    }
    Ok(merged)
}

fn merge_error(span: Span) -> SyntaxError {
    SyntaxError {
        message: "a `<<` merge key needs a mapping or a list of mappings".to_owned(),
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_get<'a>(node: &'a Node, key: &str) -> &'a Node {
        match &node.kind {
            Kind::Map(entries) => {
                &entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(key))
                    .unwrap()
                    .1
            }
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn scalars_keep_their_text_and_position() {
        let node = parse("a: 3.10\nb: yes\nc: 010\nd: ~\ne: ''\n").unwrap();
        assert_eq!(map_get(&node, "a").as_str(), Some("3.10"));
        assert_eq!(map_get(&node, "b").as_str(), Some("yes"));
        assert_eq!(map_get(&node, "c").as_str(), Some("010"));
        assert_eq!(map_get(&node, "d").kind, Kind::Null);
        assert_eq!(map_get(&node, "e").as_str(), Some(""));
        assert_eq!(map_get(&node, "c").span, Span::new(3, 4, 3));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let text = "base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  y: 3\n";
        let node = parse(text).unwrap();
        let used = map_get(&node, "use");
        assert_eq!(map_get(used, "x").as_str(), Some("1"));
        assert_eq!(map_get(used, "y").as_str(), Some("3"));
    }

    #[test]
    fn tab_indentation_is_a_syntax_error_with_a_line() {
        let err = parse("phases:\n  build:\n\tcommands: []\n").unwrap_err();
        assert_eq!(err.span.line, 3, "{err:?}");
    }
}
