"""Relationship context: the people a linked carer is recorded caring for.

A cared-for person is often mentioned with little identity of their own: a GP register row
says `Mrs J Smith (wife)` with no date of birth and the patient's postcode, a provider file
gives a name and perhaps a date of birth. Two such mentions of a Linda Edwards do not, on
their own, show one person: the county has several. But when the carers who mention them
are already linked to the same person, the question becomes much narrower: does *this*
carer care for two different people called Linda Edwards? Almost never. Record-linkage
practice calls this collective (relational) evidence: agreement of a record's neighbours.

So, after the model's clusters are built, for every carer person the cared-for mentions of
all their records are compared with each other, and a pair is taken as one person when:
- the names are compatible (surname equal or one keying slip apart; first names equal,
  nickname-equal, one keying slip apart, or an initial that agrees);
- nothing known contradicts it (NHS numbers, dates of birth, sex, where both sides have
  them);
- the match is unambiguous: each mention is the other's only compatible candidate among the
  carer's mentions from that source (a carer caring for a wife and a daughter who share a
  surname and initial gives two candidates, and neither is taken). Each GP practice's
  register is a source of its own: a carer who moved is on two registers, each naming the
  same person, and the two rows are one person twice, not two candidates.

The links are fed to the clustering as edges like any other, so every guard (opt-out, two
valid NHS numbers, dates of birth years apart, records naming two people) still applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache

import pandas as pd

from linkage.records import (
    canonical_first_name,
    gp_cared_for_keys,
    gp_patient_key,
    nicknames,
    one_slip,
)

DobTest = Callable[[date, date], bool]  # `linkage.clusters.dobs_compatible`

# Evidence order: a full first name beats a nickname beats an initial, and a date of birth
# or NHS number that agrees beats one that is missing.
_FIRST_EXACT, _FIRST_NICK, _FIRST_SLIP, _FIRST_INITIAL = 4, 3, 2, 1


def caring_mentions(records: pd.DataFrame,
                    staged: dict[str, pd.DataFrame] | None = None) -> list[tuple[str, str]]:
    """(carer record, record of a person they are recorded caring for), from every source.

    The provider's cared-for rows hang off the carer file (`carer_ref`); a GP cared-for
    mention off the patient's row (its key extends the patient's); LAS relates a client
    (`person_id`) to a related person (`related_person_id`): the related person is the
    anchor. Next of kin rows are kept: for identity the question is only "is this the same
    person this carer is associated with", not whether the caring is current.
    """
    keys = set(records["source_record_key"])
    out: list[tuple[str, str]] = []
    prov = records[(records["source"] == "provider") & (records["role"] == "cared_for")]
    for key, ref in zip(prov["source_record_key"], prov["carer_ref"], strict=True):
        carer = f"provider:carer:{ref}"
        if carer in keys:
            out.append((carer, key))
    gp = records.loc[(records["source"] == "gp") & (records["role"] == "cared_for"),
                     "source_record_key"]
    for key in gp:
        patient = key.rsplit(":cared_for:", 1)[0]
        if patient in keys:
            out.append((patient, key))
    rel = (staged or {}).get("las_person_relationship")
    if rel is not None and not rel.empty:
        for client, related in zip(rel["person_id"], rel["related_person_id"], strict=True):
            if pd.isna(client) or pd.isna(related) or client == related:
                continue
            a, b = f"las:{int(related)}", f"las:{int(client)}"
            if a in keys and b in keys:
                out.append((a, b))
    return sorted(set(out))


# What a carer is to the person they care for (the provider's and LAS's `carer_relationship`),
# and what the carer of the person a relationship names is to them: a partner's carer is a
# partner, a parent's carer is their child. Friends and other relatives say too little.
_INVERSE = {"PARTNER": "PARTNER", "CHILD": "PARENT", "PARENT": "CHILD", "SIBLING": "SIBLING"}
# A GP row's note says what the cared-for person is to the patient: `(wife)` makes the
# patient a partner, `mum` a child, `son` a parent.
_GP_RELATION = {
    "WIFE": "PARTNER", "HUSBAND": "PARTNER", "PARTNER": "PARTNER", "SPOUSE": "PARTNER",
    "MUM": "CHILD", "MOTHER": "CHILD", "MUMMY": "CHILD", "DAD": "CHILD", "FATHER": "CHILD",
    "DADDY": "CHILD", "SON": "PARENT", "DAUGHTER": "PARENT", "BROTHER": "SIBLING",
    "SISTER": "SIBLING"}


def _relation(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    word = text.strip().upper().split()[0] if text.strip() else ""
    return word if word in _INVERSE else None


def mention_relationships(records: pd.DataFrame, staged: dict[str, pd.DataFrame] | None
                          ) -> dict[tuple[str, str], str]:
    """(carer record, cared-for record) → what the carer is to that person (`PARTNER`,
    `CHILD`, `PARENT`, `SIBLING`), where a source says so: the provider's and LAS's
    `carer_relationship`, or a relationship word in a GP row's cared-for name."""
    keys = set(records["source_record_key"])
    out: dict[tuple[str, str], str] = {}
    staged = staged or {}
    cf = staged.get("provider_cared_for")
    if cf is not None and not cf.empty and "carer_relationship" in cf:
        for ref, cref, rel in zip(cf["carer_ref"], cf["cared_for_ref"],
                                  cf["carer_relationship"], strict=True):
            pair = (f"provider:carer:{ref}", f"provider:cared_for:{cref}")
            if (r := _relation(rel)) and pair[0] in keys and pair[1] in keys:
                out[pair] = r
    rel = staged.get("las_person_relationship")
    if rel is not None and not rel.empty and "carer_relationship" in rel:
        for client, related, value in zip(rel["person_id"], rel["related_person_id"],
                                          rel["carer_relationship"], strict=True):
            if pd.isna(client) or pd.isna(related) or client == related:
                continue
            pair = (f"las:{int(related)}", f"las:{int(client)}")
            if (r := _relation(value)) and pair[0] in keys and pair[1] in keys:
                out[pair] = r
    gp = staged.get("gp_register_entry")
    if gp is not None and not gp.empty:
        notes = [gp[c] if c in gp else pd.Series(None, index=gp.index)
                 for c in ("cared_for_name", "cared_for_first_name")]
        for mention, ods, nhs, name, first in zip(gp_cared_for_keys(gp), gp["practice_ods"],
                                                 gp["nhs_number"], *notes, strict=True):
            patient = gp_patient_key(ods, nhs)
            if patient not in keys or mention not in keys:
                continue
            words = re.findall(r"[A-Z]+", f"{_text(name) or ''} {_text(first) or ''}".upper())
            found = {_GP_RELATION[w] for w in words if w in _GP_RELATION}
            if len(found) == 1:
                out[(patient, mention)] = found.pop()
    return out


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _birth_date(record: dict) -> date | None:
    """A record's date of birth as a date, for `dobs_compatible` (None when not one)."""
    dob = record.get("date_of_birth")
    try:
        return pd.Timestamp(dob).date() if _text(dob) else None
    except ValueError:
        return None


@lru_cache(maxsize=1)
def _diminutives() -> dict[str, frozenset[str]]:
    """Formal name → the nicknames the table gives for it (ELIZABETH → BETTY, LIZ, …)."""
    out: dict[str, set[str]] = {}
    for nickname, forms in nicknames().items():
        for form in forms:
            out.setdefault(form, set()).add(nickname)
    return {k: frozenset(v) for k, v in out.items()}


def _initials(name: str, alt: object) -> set[str]:
    """Initials a person of this first name may be written with: the name's, its formal
    forms', and those of the names they go by (`Mrs B Dunard` for Elizabeth: Betty)."""
    forms = (_text(alt) or "").split()
    out = {name[0], *(f[0] for f in forms)}
    if len(name) > 1:
        out |= {n[0] for f in forms for n in _diminutives().get(f, ())}
    return out


def first_name_level(a: dict, b: dict) -> int:
    """How well two first names agree (0: they do not, or one is missing)."""
    fa, fb = _text(a.get("first_name")), _text(b.get("first_name"))
    if fa is None or fb is None:
        return 0
    if len(fa) == 1 or len(fb) == 1:  # `R Clark` may be Bob Clark: Robert's initial
        initials_a = _initials(fa, a.get("first_name_alt"))
        initials_b = _initials(fb, b.get("first_name_alt"))
        return _FIRST_INITIAL if (fa if len(fa) == 1 else fb) in (
            initials_b if len(fa) == 1 else initials_a) else 0
    if fa == fb:
        return _FIRST_EXACT
    forms_a = set((_text(a.get("first_name_alt")) or "").split())
    forms_b = set((_text(b.get("first_name_alt")) or "").split())
    if forms_a & forms_b:
        return _FIRST_NICK
    # a slip of the name or of one of the other's formal forms (`PATRICA` for Pat: Patricia)
    if one_slip(fa, fb) or any(one_slip(fa, f) for f in forms_b) \
            or any(one_slip(fb, f) for f in forms_a):
        return _FIRST_SLIP
    return 0


def mention_score(a: dict, b: dict, dobs_compatible: DobTest) -> int:
    """`_score`, also trying b with first name and surname swapped (a common keying slip).

    Turned round, b's surname is its first name, with that name's formal forms: `MARTIN
    TED` is Ted Martin, so it may be Edward Martin (a surname that is also a given name
    keeps `linkage.records.correct_swapped_names` from turning such a record round)."""
    swapped = {**b, "first_name": b.get("last_name"), "last_name": b.get("first_name"),
               "first_name_alt": canonical_first_name(_text(b.get("last_name")))}
    return max(_score(a, b, dobs_compatible), _score(a, swapped, dobs_compatible) - 1)


def _score(a: dict, b: dict, dobs_compatible: DobTest) -> int:
    """Compatibility of two cared-for mentions of one carer; 0 means not the same person.

    Contradictions veto: different valid NHS numbers, incompatible dates of birth, different
    recorded sex. Otherwise the score orders candidates by how much agrees, so that the
    unique-best test can tell a clear match from a choice between relatives.
    """
    na, nb = _text(a.get("nhs_number")), _text(b.get("nhs_number"))
    if na and nb:
        if na != nb:
            return 0
    sa, sb = _text(a.get("sex")), _text(b.get("sex"))
    if sa and sb and sa != sb:
        return 0
    da, db = a.get("date_of_birth_d"), b.get("date_of_birth_d")
    if da is not None and db is not None and not dobs_compatible(da, db):
        return 0
    la, lb = _text(a.get("last_name")), _text(b.get("last_name"))
    first = first_name_level(a, b)
    if la and lb:
        if la == lb:
            surname = 2
        elif one_slip(la, lb):
            surname = 1
        else:
            return 0
        if first == 0:
            return 0
    elif first in (_FIRST_EXACT, _FIRST_NICK):
        surname = 0  # one side gives a first name only: only a full first name will do
    else:
        return 0
    score = 10 * first + 5 * surname
    if na and nb:
        score += 40
    if da is not None and db is not None:
        score += 20 if da == db else 5
    return score


def context_links(records: pd.DataFrame, cluster_of: dict[str, str],
                  mentions: Iterable[tuple[str, str]], dobs_compatible: DobTest,
                  relations: dict[tuple[str, str], str] | None = None
                  ) -> list[tuple[str, str, int]]:
    """(mention, mention, score) pairs that the carers' linkage shows are one person.

    `cluster_of` maps record key → cluster after the model's links; `mentions` are (carer
    record, cared-for record) from `caring_mentions`. Only pairs in different clusters and
    from different carer records are returned; each must be the unique best candidate in
    both directions (per carer person and per source of the other mention).

    With `relations` (`mention_relationships`), a couple who care for each other is used
    too (`_mutual_links`).
    """
    mentions = list(mentions)
    if not mentions:
        return []
    info = records.set_index("source_record_key")
    by_carer: dict[str, set[tuple[str, str]]] = {}
    # Carers recorded at one postcode (a household: partners, a parent and the child who
    # lives with them) who are different people may still care for one person, and often
    # do: their mentions are compared too, under the same unique-best test.
    guessed = set(records.loc[records["postcode_guessed"].fillna(False).astype(bool),
                              "source_record_key"])
    households: dict[str, set[tuple[str, str]]] = {}
    for carer, cared in mentions:
        if carer in cluster_of and cared in cluster_of:
            by_carer.setdefault(cluster_of[carer], set()).add((carer, cared))
            postcode = None if carer in guessed else _text(info.at[carer, "postcode"])
            if postcode:
                households.setdefault(postcode, set()).add((carer, cared))
    shared = [g for g in households.values() if len({cluster_of[c] for c, _ in g}) > 1]
    rows: dict[str, dict] = {}
    members: dict[str, list[str]] = {}

    def borrowed(key: str) -> dict:
        """A nameless mention (a GP row's NHS number alone) compared as the person its
        cluster already is: the name, and the date of birth and sex, its cluster's named
        records agree on (nothing when they disagree)."""
        if not members:
            for k, c in cluster_of.items():
                members.setdefault(c, []).append(k)
        named = [info.loc[k] for k in members.get(cluster_of[key], []) if k != key
                 and k in info.index and _text(info.at[k, "last_name"])]
        out: dict = {}
        for fields in (("first_name", "last_name", "first_name_alt"), ("date_of_birth",),
                       ("sex",)):
            # a name needs both its parts; first_name_alt comes with them
            values = {tuple(r.get(f) for f in fields) for r in named
                      if all(_text(r.get(f)) for f in fields[:2])}
            if len(values) == 1:
                out.update(zip(fields, values.pop(), strict=True))
        return out

    def row(key: str) -> dict:
        if key not in rows:
            r = info.loc[key].to_dict()
            r["_named"] = bool(_text(r.get("first_name")) or _text(r.get("last_name")))
            if not r["_named"]:
                r.update({f: v for f, v in borrowed(key).items() if not _text(r.get(f))})
            r["date_of_birth_d"] = _birth_date(r)
            r["_source"] = _register(key)
            r["_cluster"] = cluster_of[key]
            rows[key] = r
        return rows[key]

    found: dict[tuple[str, str], int] = {}
    groups = [(g, True) for g in by_carer.values()] + [(g, False) for g in shared]
    for group, one_carer in groups:
        if len({carer for carer, _ in group}) < 2:
            continue
        cared = sorted({(carer, m) for carer, m in group})
        scores: dict[tuple[str, str], int] = {}
        for i, (ca, ma) in enumerate(cared):
            for cb, mb in cared[i + 1:]:
                if ca == cb or ma == mb or cluster_of[ma] == cluster_of[mb]:
                    continue
                s = mention_score(row(ma), row(mb), dobs_compatible)
                if s:
                    scores[(ma, mb)] = scores[(mb, ma)] = s
        for (ma, mb), s in scores.items():
            if ma > mb:
                continue
            if _unique_best(ma, mb, s, scores, rows) and _unique_best(mb, ma, s, scores, rows):
                found[(ma, mb)] = max(found.get((ma, mb), 0), s)
        for ma, mb in (_sole_mentions(cared, row) if one_carer else []):
            found.setdefault((min(ma, mb), max(ma, mb)), SOLE_MENTION_SCORE)
    for (ma, mb), s in _mutual_links(relations or {}, cluster_of, row, dobs_compatible).items():
        found[(ma, mb)] = max(found.get((ma, mb), 0), s)
    return [(a, b, s) for (a, b), s in sorted(found.items())]


def mutual_links(records: pd.DataFrame, cluster_of: dict[str, str],
                 relations: dict[tuple[str, str], str], dobs_compatible: DobTest
                 ) -> list[tuple[str, str, int]]:
    """`_mutual_links` on its own: run again once the first context links are taken, since
    a couple's mutual statement often shows only after a mention of one of them has been
    linked by context."""
    if not relations:
        return []
    info = records.set_index("source_record_key")
    rows: dict[str, dict] = {}

    def row(key: str) -> dict:
        if key not in rows:
            r = info.loc[key].to_dict()
            r["date_of_birth_d"] = _birth_date(r)
            rows[key] = r
        return rows[key]

    found = _mutual_links(relations, cluster_of, row, dobs_compatible)
    return [(a, b, s) for (a, b), s in sorted(found.items())]


def _mutual_links(relations: dict[tuple[str, str], str], cluster_of: dict[str, str],
                  row: Callable[[str], dict], dobs_compatible: DobTest
                  ) -> dict[tuple[str, str], int]:
    """Couples (and parents and children) who care for each other: carer A's file names a
    person, and someone B who cares for A is recorded as what that person would be to A
    (A a partner of the person, B a partner of A; A the child, B the parent). When the name
    fits B, the mention is B. A son of his father's name who cares for his mother, who
    cares for the father, is kept out by the relationship: the son is the mother's child,
    not her partner. Each mention must have one such B, and each (A, B) one such mention.
    """
    carers_of: dict[str, list[tuple[str, str]]] = {}  # cluster → (carer record, relationship)
    for (carer, cared), rel in relations.items():
        if carer in cluster_of and cared in cluster_of:
            carers_of.setdefault(cluster_of[cared], []).append((carer, rel))
    best: dict[str, dict[str, tuple[int, str]]] = {}  # mention → B → (score, B's record)
    by_pair: dict[tuple[str, str], set[str]] = {}  # (A, B) → clusters of A's mentions fitting B
    for (carer, mention), rel in sorted(relations.items()):
        if carer not in cluster_of or mention not in cluster_of:
            continue
        a, m_cluster = cluster_of[carer], cluster_of[mention]
        for other, other_rel in carers_of.get(a, []):
            b = cluster_of[other]
            if b in (a, m_cluster) or other_rel != _INVERSE[rel]:
                continue
            score = mention_score(row(mention), row(other), dobs_compatible)
            if not score:
                continue
            by_pair.setdefault((a, b), set()).add(m_cluster)
            per = best.setdefault(mention, {})
            if b not in per or (score, other) > per[b]:
                per[b] = (score, other)
    out: dict[tuple[str, str], int] = {}
    for mention, per in best.items():
        if len(per) != 1:
            continue
        (b, (score, other)), = per.items()
        a_clusters = [a for (a, bb), clusters in by_pair.items()
                      if bb == b and cluster_of[mention] in clusters]
        if any(len(by_pair[(a, b)]) != 1 for a in a_clusters):
            continue
        out[(min(mention, other), max(mention, other))] = score
    return out


# Weakest of all context links: taken after every link that compares names.
SOLE_MENTION_SCORE = 1


def _sole_mentions(cared: list[tuple[str, str]], row: Callable[[str], dict]
                   ) -> list[tuple[str, str]]:
    """A mention with no name (a GP row naming the cared-for person by NHS number alone)
    and the person the same carer's other sources name, when each is the only person its
    side records the carer caring for: the carer's only cared-for person on the GP register
    and their only one in every other source together. Nothing in the two records is
    compared (there is nothing to compare); the guards still refuse two NHS numbers or dates
    of birth no slip explains. A carer of two people, one per source, is the risk.

    Each practice's register counts as a source of its own: a carer who moved is often on
    both the old and the new practice's register, one row naming the person by NHS number
    alone and the other by name."""
    people: dict[str, set[str]] = {}
    for _, m in cared:
        people.setdefault(row(m)["_source"], set()).add(row(m)["_cluster"])
    out = []
    for _, m in cared:
        r = row(m)
        if r["_named"]:
            continue
        here = r["_source"]
        others = set().union(*(c for src, c in people.items() if src != here))
        if people[here] != {r["_cluster"]} or len(others) != 1 \
                or r["_cluster"] in others:
            continue
        other = min(o for _, o in cared if row(o)["_cluster"] in others)
        out.append((m, other))
    return out


def _register(key: str) -> str:
    """The source of a mention, a GP practice's register counted apart from the others."""
    parts = key.split(":", 2)
    return ":".join(parts[:2]) if parts[0] == "gp" else parts[0]


def _unique_best(m: str, other: str, score: int, scores: dict[tuple[str, str], int],
                 rows: dict[str, dict]) -> bool:
    """Is `other` the only best candidate for `m` among mentions from other's source?

    Mentions already in other's cluster are the same person, not rivals.
    """
    source, cluster = rows[other]["_source"], rows[other]["_cluster"]
    rivals = [s for (a, b), s in scores.items()
              if a == m and rows[b]["_cluster"] != cluster and rows[b]["_source"] == source]
    return all(s < score for s in rivals)
