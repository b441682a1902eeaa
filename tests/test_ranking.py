"""Ranking across namespaces: join keys read from column names, namespaces scored as wholes, strong matches kept in sight."""

from catalog_ingest.ranking import JoinKeys, NamespaceWords, rank_tables

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
