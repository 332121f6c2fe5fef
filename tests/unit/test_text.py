"""Tweet text rules, without any server."""

from __future__ import annotations

import pytest

from chirp.errors import InvalidInput
from chirp.tweets.text import MAX_CHARS, InvalidText, hashtag_named, hashtags, mentions, normalize_text


def test_given_decomposed_accents_when_normalized_then_nfc_and_each_accented_letter_counts_once():
    decomposed = "e\u0301" * MAX_CHARS  # 560 code points before NFC, 280 after
    assert normalize_text(decomposed) == "\u00e9" * MAX_CHARS


def test_given_cjk_and_emoji_when_normalized_then_code_points_are_counted_not_bytes():
    assert normalize_text("漢" * MAX_CHARS) == "漢" * MAX_CHARS
    with pytest.raises(InvalidText, match="281 characters"):
        normalize_text("漢" * (MAX_CHARS + 1))


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_given_blank_text_when_normalized_then_it_is_refused(blank):
    with pytest.raises(InvalidText, match="must not be empty"):
        normalize_text(blank)


@pytest.mark.parametrize(("text", "code"), [("nul \x00 here", "0000"), ("bell\x07", "0007"), ("c1\x85x", "0085")])
def test_given_a_control_character_when_normalized_then_it_is_refused_by_name(text, code):
    with pytest.raises(InvalidText, match=f"U\\+{code}"):
        normalize_text(text)


def test_given_line_breaks_tabs_and_joined_emoji_when_normalized_then_they_are_kept():
    text = "line one\r\nline\ttwo 👩\u200d💻"
    assert normalize_text(f"  {text}  ") == text


def test_given_tags_and_mentions_when_extracted_then_lower_cased_deduplicated_and_in_order():
    text = "#Chirp and #chirp with @Alice, @bob and @alice; not an#tag nor mail@example #日本"
    assert hashtags(text) == ["chirp", "日本"]
    assert mentions(text) == ["alice", "bob"]


@pytest.mark.parametrize(
    ("raw", "tag"),
    [("python", "python"), ("#Python", "python"), ("  #PyCon_2026 ", "pycon_2026"), ("x" * 100, "x" * 100)],
)
def test_given_a_hashtag_as_a_client_names_it_when_read_then_without_its_hash_and_lower_cased(raw, tag):
    assert hashtag_named(raw) == tag


@pytest.mark.parametrize("raw", ["", "#", "  ", "no-dash", "##double", "two words", "x" * 101])
def test_given_what_could_not_be_a_hashtag_when_read_then_it_is_refused_naming_it(raw):
    with pytest.raises(
        InvalidInput, match=r"is not a hashtag: letters, digits and underscores, at most 100$"
    ) as refused:
        hashtag_named(raw)
    assert repr(raw) in str(refused.value)
