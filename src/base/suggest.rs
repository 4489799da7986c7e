//! "Did you mean": the nearest known word to a misspelt one, for unknown keys and values.

/// The known word nearest to `word`, when it is close enough to be a likely typo: at most two
/// edits, or a quarter of the candidate's length for long words.
pub fn nearest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn close_words_are_suggested_and_far_ones_are_not() {
        let known = ["function", "alias", "region", "traffic-shift"];
        assert_eq!(nearest("functon", &known), Some("function"));
        assert_eq!(nearest("trafic-shift", &known), Some("traffic-shift"));
        assert_eq!(nearest("banana", &known), None);
    }
}
