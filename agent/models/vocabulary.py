"""General English the models and the grounding check read questions with: synonyms, time grains, units,
lake layers, and the words each kind of evidence (a tool's facts, an aggregate, a period) accounts for.

Nothing here knows any lake: no table, column or value of a catalog (tests/test_vocabulary.py checks the
sample lake's). What is specific to a lake comes from that lake's own metadata, through the tools.
"""

from __future__ import annotations

SYNONYMS: dict[str, tuple[str, ...]] = {
    "revenue": ("revenue", "amount", "sales", "gross", "net", "total", "price"),
    "sales": ("sales", "revenue", "amount", "total"),
    "spend": ("spend", "cost", "amount"),
    "cost": ("cost", "spend", "amount", "price"),
    "amount": ("amount", "value", "total", "price"),
    "price": ("price", "amount", "cost"),
    "region": ("region", "country", "area", "territory", "market"),
    "country": ("country", "nation", "region", "market"),
    "city": ("city", "town"),
    "customer": ("customer", "client", "buyer", "user", "account"),
    "user": ("user", "customer", "account", "member", "visitor"),
    "product": ("product", "item", "sku", "article"),
    "quantity": ("quantity", "qty", "units"),
    "status": ("status", "state"),
    "category": ("category", "type", "class", "segment"),
    "channel": ("channel", "source", "medium"),
    "refund": ("refund", "return"),
    "money": ("revenue", "amount", "sales", "price", "payment"),
    "earning": ("revenue", "amount", "sales", "income"),
    "income": ("revenue", "amount", "income"),
    "order": ("order", "purchase", "transaction"),
    "event": ("event", "action", "activity"),
    "date": ("date", "day", "time", "ts", "timestamp"),
    "ids": ("id", "key"),
}
"""Business words and the words a table or column holding them may be named with (stems, singular)."""

GRAINS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
          "yearly": "year", "annual": "year", "annually": "year"}  # fmt: skip
"""Adverbs of a time grain and the grain they mean."""

UNITS = {"usd": "usd", "dollar": "usd", "dollars": "usd", "eur": "eur", "euro": "eur", "euros": "eur", "gbp": "gbp",
         "cents": "cents", "local": "local", "seconds": "seconds", "ms": "ms", "minutes": "minutes", "bytes": "bytes"}
"""Unit words (ISO currency codes and their names, time and size units) that pick among columns of the same
measure (``amount`` vs ``amount_usd``)."""

TIME_WORDS = frozenset({"date", "dates", "time", "times", "timestamp", "day", "moment", "when"})
"""Words that make a smallest or largest value a time ("the latest order date"), not an amount."""

INCLUDING_WORDS = frozenset({"including", "include", "includes", "included", "incl", "counting"})
"""Words that keep rows in rather than pick them out ("including cancelled ones"): no filter on the value."""

UNIT_COLUMN_WORDS = frozenset({"currency", "unit", "units"})
"""Words naming a column that says each row's unit (``currency``): a measure beside it mixes units."""

CURRENCY_CODES = frozenset("usd eur gbp jpy cny chf cad aud nzd sek nok dkk pln czk huf inr brl mxn zar sgd hkd krw "
                           "try ils aed sar".split())
"""Common ISO 4217 codes: a measure named with one (``amount_usd``) is in that currency alone."""

NUMBER_WORDS = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())} | {word: 10 * n for n, word in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}  # fmt: skip
"""Numbers written as words, up to ninety; with ``NUMBER_SCALES`` they make "two hundred" or "forty-five"."""
NUMBER_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
COUNTING_WORDS = frozenset("than least most over under above below top first last past next exactly".split())
"""Words after which "one" is a number ("more than one payment", "the top one"), not a pronoun ("which one")."""

COUNTRIES = {
    "ar": "argentina argentinian argentine", "at": "austria austrian", "au": "australia australian",
    "be": "belgium belgian", "br": "brazil brazilian", "ca": "canada canadian", "ch": "switzerland swiss",
    "cl": "chile chilean", "cn": "china chinese", "co": "colombia colombian", "cz": "czechia czech",
    "de": "germany german", "dk": "denmark danish", "eg": "egypt egyptian", "es": "spain spanish",
    "fi": "finland finnish", "fr": "france french", "gb": "britain british england scotland wales uk",
    "gr": "greece greek", "hu": "hungary hungarian", "id": "indonesia indonesian", "ie": "ireland irish",
    "il": "israel israeli", "in": "india indian", "it": "italy italian", "jp": "japan japanese",
    "ke": "kenya kenyan", "kr": "korea korean", "mx": "mexico mexican", "my": "malaysia malaysian",
    "ng": "nigeria nigerian", "nl": "netherlands holland dutch", "no": "norway norwegian",
    "nz": "zealand", "pe": "peru peruvian", "ph": "philippines filipino", "pk": "pakistan pakistani",
    "pl": "poland", "pt": "portugal portuguese", "ro": "romania romanian", "ru": "russia russian",
    "sa": "arabia saudi", "se": "sweden swedish", "sg": "singapore singaporean", "th": "thailand thai",
    "tr": "turkiye turkish", "tw": "taiwan taiwanese", "ua": "ukraine ukrainian", "ae": "emirates emirati",
    "us": "america american usa", "vn": "vietnam vietnamese",
}
"""ISO 3166 two-letter country codes and the words a question names the country with (its name or the last
word of it, its adjective): "orders from Germany" filters a column that holds ``DE``."""
COUNTRY_NAME_STARTS = frozenset("united new south saudi great czech".split())
"""First words of two-word country names ("United Kingdom", "New Zealand"): part of the name the next word says."""
COUNTRY_PAIRS = {"kingdom": "gb", "states": "us"}
"""Second words of "United Kingdom" and "United States", countries only after "united"."""

TABLE_RANK_WORDS = {
    "columns": "wider widest narrower narrowest",
    "snapshots": "snapshotted",
    "bytes": "tinier tiniest heavier heaviest chunkier chunkiest",
}
"""Words that rank whole tables by a measure they do not name ("the widest table": most columns, "the tiniest
tables": fewest bytes, "snapshotted the most": snapshots)."""
TABLE_FEW_WORDS = frozenset("narrower narrowest tinier tiniest".split())
"""Of those, the words that rank from the fewest up."""
NOBODY_WORDS = frozenset({"nobody"})
"""Words that negate the writing they come before ("tables nobody has written to")."""

HOLD_VERBS = frozenset("have has contain include store keep record track carry hold".split())
"""Verbs of a yes/no question about what a table holds ("does a.b carry a currency column?")."""

ROW_VERBS = frozenset("write load insert ingest process produce emit add create generate copy sync export import output "
                      "delete update move send".split())
"""Verbs of what something does to rows ("how many rows did the failed runs write?"): the rows are a value the
table's rows hold, not the table's own row count."""

SOURCE_PREPOSITIONS = frozenset("through via from by".split())
LINK_WORDS = SOURCE_PREPOSITIONS | frozenset("the a an".split())
"""Prepositions of a source, and articles, between a negated verb and a value ("did not come through the web"):
the value is what is negated (not so after "in" or "with": "did not ship in the web channel")."""
NEGATING_PAIRS = {"other": "than", "no": "longer", "leaving": "out", "leave": "out", "apart": "from", "aside": "from",
                  "rather": "than"}  # fmt: skip
"""Two words (the first, then the second) before a value that exclude it ("other than card", "leaving out mobile")."""

LAYERS = {"raw": 0, "bronze": 0, "landing": 0, "source": 0, "src": 0, "staging": 1, "stg": 1, "silver": 1}
"""Common lake layers below the curated one: among equally good tables, the most curated wins."""

# What evidence accounts for (the grounding check) -------------------------------------------------------

BREAKDOWN_WORDS = frozenset("break down breakdown broken split splits".split())
"""Words that ask for a result in groups ("break tickets down by team"); the groups are said after "by"."""

FRAME_WORDS = BREAKDOWN_WORDS | frozenset(
    "sql query queries select statement write draft run execute result results lake catalog name names named called "
    "show return answer need want know like see look tell info information please also just only will shall may "
    "might must am being got gets getting so then than very really actually exactly ok okay hi hello hey thanks "
    "use using used they them he she his her if as far through via ones came come comes made make makes placed happen happened "
    "occurred appear appears appeared exist exists existed received still went go goes gone same arrived arrive arrives handled handle handles overall whose".split()
)
"""Words that frame a question without saying what it asks about: nothing needs to account for them."""

AGGREGATE_WORDS = {
    "count": "count counts counted number many how rows row records record entries entry lines line times",
    "sum": "sum total totals overall combined",
    "avg": "average avg mean typical",
    "median": "median middle",
    "share": "share percentage percent proportion fraction ratio rate",
    "min": "min minimum lowest smallest least earliest first oldest range span",
    "max": "max maximum highest largest biggest most latest last newest recent",
    "distinct": "unique distinct different",
    "group": "by per each every breakdown split grouped group across",
    "order": "top most highest lowest least fewest largest biggest smallest best worst rank ranked ranking order "
             "sorted first last recent latest newest oldest earliest expensive cheapest slowest fastest longest shortest "
             "common commonly frequent frequently often popular",
}
"""SQL aggregates and clauses, and the words a question asks for them with."""
LISTED_ROWS = frozenset("rows row records record entries entry lines line".split())
"""Words for the rows themselves, which a query listing rows (``LIMIT`` with no aggregate) shows."""
NAME_PARTS = frozenset("name title label".split())
"""Parts of the names of columns that hold a thing's name: what "the names of the campaigns" asks to see."""

PERIOD_WORDS = frozenset(
    "yesterday today tonight day days daily week weeks weekly month months monthly year years yearly quarter "
    "quarters hour hours hourly last past previous recent recently since between from until before after this "
    "current ago back during fortnight new date dates time period range latest newest earliest january february "
    "march april june july august september october november december monday tuesday wednesday thursday friday "
    "saturday sunday prior preceding start beginning ytd mtd".split()
)
"""Words of a time range: accounted for by a date filter in the SQL or a date range a tool was asked for."""

COMPARISON_WORDS = ("over above more greater exceeding exceeds exceed beyond higher larger bigger than under below "
                    "less fewer lower smaller least most between within up")
"""Words of a comparison with a number ("over 100", "at least 4", "between 5 and 10"): accounted for by a
comparison in the SQL."""

PREPOSITIONS = frozenset("over above under below within beyond".split())
"""Comparison words that are also prepositions: with no number after them ("came in over chat") they frame."""
ATTRIBUTE_NOUNS = frozenset("code type kind".split())
"""Nouns said after a column's name that name the same column ("reason code", "device type")."""

NEGATION_WORDS = ("not non no longer except excluding exclude excludes other besides without outside apart aside leaving "
                  "leave out ignoring isn aren wasn weren don doesn didn haven hasn hadn")
EMPTY_WORDS = frozenset("no without missing lacking lack lacks null empty blank unset none never".split())
"""Words that say a column holds nothing ("orders with no campaign", "emails never opened"): accounted for by
``IS NULL`` in the SQL."""
SET_WORDS = frozenset("with have has having had".split())
"""Words that say a column holds something ("orders with a campaign"): ``IS NOT NULL``."""
NEGATORS = frozenset(NEGATION_WORDS.split()) - set(NEGATING_PAIRS) - set(NEGATING_PAIRS.values())
"""Negation words that negate alone, said just before a value or its verb ("not completed", "didn't convert");
the words of a negating pair count only together (``NEGATING_PAIRS``)."""
CLAUSE_WORDS = FRAME_WORDS | frozenset(COMPARISON_WORDS.split()) | NEGATORS
"""Words that say how a question asks (frame, negate, compare), not what it is about; the words of a negating
pair ("leave", "out", "apart") only in their pair (``language.what_is_asked``)."""
NEGATING_PREFIXES = ("un", "non", "in")
"""Prefixes that negate a participle or adjective ("unresolved", "inactive")."""
PARTICIPLES = frozenset(
    "sent paid made done written begun run shown seen given taken sold bought built held kept left lost met read "
    "spent won set put cut shut hit quit split spread".split()
)
"""Past participles not made with -ed, that a timestamp column may be named after (``sent_at``)."""
IRREGULAR_PAST = {"spent": "spend", "paid": "pay", "sold": "sell", "bought": "buy", "sent": "send", "made": "make",
                  "won": "win", "lost": "lose", "built": "build", "held": "hold", "kept": "keep", "given": "give",
                  "gave": "give", "taken": "take", "took": "take", "written": "write", "wrote": "write",
                  "shown": "show", "seen": "see", "saw": "see", "brought": "bring", "ran": "run", "got": "get",
                  "began": "begin", "begun": "begin", "left": "leave", "met": "meet", "told": "tell"}  # fmt: skip
"""Past forms not made with -ed and the verb they come from ("what have we spent": the spend)."""
PARTICLES = frozenset("up in out off".split())
"""The second word of a phrasal verb a column may be named after ("signed up": ``signup``)."""
STATE_NAME_PARTS = frozenset("at on ts id is has was flag date time timestamp".split())
"""Parts of a column's name that say its type or role, not what it records (``resolved_at``, ``is_active``)."""

TOOL_WORDS = {
    "describe_table": "describe description column columns field fields schema structure type types data owner "
                      "owns owned owners maintain maintains maintained maintainer responsible contact team charge "
                      "steward stewards look looks after pii personal sensitive detail details key keys primary identifier identify "
                      "identifies uniquely sort sorted order comment mean means meaning contain what size big large "
                      "row rows record records file files byte bytes storage space disk footprint written updated "
                      "modified refreshed loaded fresh freshness stale partitioned partitioning snapshot current "
                      "format kind many number count",
    "list_partitions": "partition partitions partitioned partitioning latest newest oldest first last range row rows "
                       "file files size byte bytes many number count",
    "table_history": "history snapshot snapshots change changes changed commit commits committed operation "
                     "operations deleted delete rewritten overwritten overwrite append appended compaction compacted "
                     "evolution evolved spec specs schema partitioning repartitioned version versions ever many "
                     "number count kinds kind",
    "search_tables": "find search which where about related",
    "list_tables": "biggest largest smallest most fewest least top rank ranked size big large row rows file files "
                   "byte bytes storage space disk footprint take takes written updated modified stale fresh partition "
                   "partitions snapshot snapshots column "
                   "columns namespace namespaces schema database databases db layer layers everything contain contains hold holds "
                   "include includes belong belongs belonging live lives sit sits under inside within owner owners owned "
                   "tag tags tagged many number count",
}
"""The facts each tool returns, as the words a question asks for them with."""
