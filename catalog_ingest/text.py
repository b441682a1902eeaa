"""Words out of text: word splitting, identifier splitting, stop words and the plural-folding stemmer.

The one owner of these primitives for search (documents and queries in the BM25 index, table names in the
retriever) and for the offline model's reading of questions. It imports nothing heavy, so the model can use
it without loading the index. Search and question reading split words differently on purpose: search keeps
identifiers whole (``finance.refund_amount``, ``$path``) and their case for camelCase splitting; question
reading wants plain lower-case words.
"""

from __future__ import annotations

import re

IDENTIFIER_WORD = re.compile(r"[A-Za-z0-9_.$-]+")
"""A word as search sees it: an identifier with its dots, dashes and dollar signs, case kept."""
IDENTIFIER_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
"""A part of an identifier: ``refundAmount_2`` has refund, Amount and 2."""
PLAIN_WORD = re.compile(r"[a-z0-9_]+")
"""A word as the offline model reads a question: lower-case letters, digits and underscores."""

SEARCH_STOPWORDS = frozenset(
    """a an and are as at be by can do does for from give had has have how i in into is it its list me my
    of on or our per show tell that the their them there these this those to want was we were what when
    where which who whom why will with you your all any find get please""".split()
)
"""Words left out of BM25 tokens, in documents and queries alike."""
QUESTION_STOPWORDS = frozenset(
    "a an the of for in on to at by per with and or is are was were be been do does did it its this that these "
    "those there their me my we our you your i can could would should please show give tell list get find what "
    "which where when who how many much some any all from into about data table tables dataset datasets have "
    "has had exist exists available contain contains containing store stores stored kept hold holds each every "
    "right now currently us anything something one kindly pls thanks thank validate verify ensure explain".split()
)
"""Words that say nothing about what a question is about; the offline model drops them from its content words."""


def stem(word: str) -> str:
    """Light plural stripping so 'refunds' meets 'refund' and 'categories' meets 'category'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def identifier_words(text: str) -> list[str]:
    """Identifier-like words, case kept, without leading or trailing ``.-$`` (a sentence's full stop)."""
    return [word.strip(".-$") for word in IDENTIFIER_WORD.findall(text)]


def identifier_parts(word: str) -> list[str]:
    """The lower-case parts of an identifier, split at underscores, dots, case changes and digits."""
    return [part.lower() for part in IDENTIFIER_PART.findall(word)]


def name_parts(name: str) -> list[str]:
    """The lower-case parts of a column or table name between underscores and dots (``amount_usd``: amount, usd)."""
    return [part for part in re.split(r"[_.]", name.lower()) if part]


def words(text: str) -> list[str]:
    """The question's plain lower-case words, in order."""
    return PLAIN_WORD.findall(text.lower())
