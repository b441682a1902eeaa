"""Ranking across namespaces: join keys read from column names, namespaces scored as wholes, strong matches kept
in sight, table names found in a question."""

import numpy as np

from catalog_ingest.dataset_copies import DatasetCopies
from catalog_ingest.index import ExactVectors
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.ranking import JoinKeys, NamespaceWords, rank_tables
from catalog_ingest.retrieval import MENTIONED_TABLE_BOOST, OpenIndexes, TableInfo, name_key, named_tables

COLUMNS = {
    "c.pets.student": ["StuID", "LName", "Age"],
    "c.pets.pets": ["PetID", "PetType", "pet_age"],
    "c.pets.has_pet": ["StuID", "PetID"],
    "c.school.student": ["id", "name"],
    "c.school.grades": ["student_id", "grade"],
    "c.school.teacher": ["id", "name"],
}
NAMESPACE_OF = {key: key.split(".")[1] for key in COLUMNS}
NAME_OF = {key: key.split(".")[2] for key in COLUMNS}


def test_join_keys_come_from_shared_key_columns_and_table_named_keys():
    keys = JoinKeys.from_columns(COLUMNS, NAMESPACE_OF, NAME_OF)
    assert keys.of("c.pets.has_pet") == {"c.pets.student": ("StuID",), "c.pets.pets": ("PetID",)}
    assert keys.of("c.school.grades") == {"c.school.student": ("student_id",)}
    assert "c.school.teacher" not in keys.of("c.school.student")  # a bare `id` each is no join
    assert "c.school.student" not in keys.of("c.pets.student")  # never across namespaces


def test_namespace_words_favour_the_namespace_covering_the_question():
    words = NamespaceWords.from_words({"pets": {"student", "pet", "cat"}, "school": {"student", "grade"}})
    scores = words.scores(["student", "pet"], rrf_k=60)
    assert scores["pets"] > scores["school"] > 0


def test_linking_table_is_brought_in_and_best_match_stays_first():
    scores = {"c.school.student": 0.060, "c.pets.student": 0.058, "c.pets.pets": 0.050}
    words = NamespaceWords.from_words({"pets": {"student", "pet"}, "school": {"student", "grade"}}).scores(["student", "pet"], 60)
    ranked, joined = rank_tables(scores, NAMESPACE_OF, JoinKeys.from_columns(COLUMNS, NAMESPACE_OF, NAME_OF), words)
    order = sorted(ranked, key=lambda table: -ranked[table])
    assert order[0] == "c.school.student"  # the best match on its own
    assert "c.pets.has_pet" in ranked and set(joined["c.pets.has_pet"]) <= {"StuID", "PetID"}
    assert ranked["c.pets.has_pet"] > ranked.get("c.school.grades", 0.0)


def test_join_keys_read_columns_at_the_first_question_and_pair_both_ways_alike():
    reads = []
    columns = {**COLUMNS, "c.pets.visits": ["stuid", "petid", "VisitID"]}

    def read_columns():
        reads.append(1)
        return columns

    keys = JoinKeys(read_columns, {key: key.split(".")[1] for key in columns}, {key: key.split(".")[2] for key in columns})
    assert reads == []  # opening the indexes reads no columns
    for table in columns:
        for neighbour, names in keys.of(table).items():
            assert keys.of(neighbour)[table] == names  # one pairing, seen from either side
    assert reads == [1]
    assert keys.of("c.pets.visits")["c.pets.has_pet"] == ("PetID", "StuID")  # sorted, in the earlier table's spelling
    assert keys.of("c.nowhere.table") == {}


def indexes_of(table_keys: list[str]) -> OpenIndexes:
    """The name lookups of ``open_indexes`` over tables ``catalog.namespace.table`` (no documents indexed)."""
    tables = {key: TableInfo(key, key.split(".", 1)[1], *key.split(".")[:2]) for key in table_keys}
    by_name: dict[str, set[str]] = {}
    for key, info in tables.items():
        for name in (key, info.full_name, info.full_name.split(".", 1)[1]):
            by_name.setdefault(name_key(name), set()).add(key)
    namespace_of = {key: info.namespace for key, info in tables.items()}
    name_of = {key: key.split(".")[2] for key in tables}
    return OpenIndexes(
        None, ExactVectors([], [], np.zeros((0, 384), dtype=np.float32)), LexicalIndex(), tables, by_name,
        namespace_of, JoinKeys.from_columns({}, namespace_of, name_of), NamespaceWords.from_words({}),
        DatasetCopies(dict, lambda keys: {}), 0, {},
    )


def test_a_table_name_written_as_two_words_counts_as_mentioned():
    indexes = indexes_of(["c.school.Highschooler", "c.school.student", "c.ads.ad_spend", "c.ads.high"])
    named, _ = named_tables("names of high schoolers who have friends", indexes)
    assert named["c.school.Highschooler"] == MENTIONED_TABLE_BOOST  # plural folded, like a one-word name
    assert named["c.ads.high"] == MENTIONED_TABLE_BOOST and "c.school.student" not in named
    named, _ = named_tables("ad spend per channel", indexes)
    assert named == {"c.ads.ad_spend": MENTIONED_TABLE_BOOST}
    assert named_tables("schoolers high", indexes)[0] == {"c.ads.high": MENTIONED_TABLE_BOOST}  # in order only


def test_a_neighbour_ranks_by_its_own_match_when_that_is_higher():
    scores = {"c.pets.has_pet": 0.060, "c.pets.student": 0.050}
    ranked, joined = rank_tables(scores, NAMESPACE_OF, JoinKeys.from_columns(COLUMNS, NAMESPACE_OF, NAME_OF), {})
    assert "c.pets.pets" in joined and "c.pets.student" not in joined  # its own score beats the share
    assert ranked["c.pets.has_pet"] > ranked["c.pets.student"] > ranked["c.pets.pets"] > 0

