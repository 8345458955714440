"""Sealed collections: field-level encryption applied where documents meet the driver.

`SealedCollection` wraps a pymongo (or mongomock) collection and is what every store module
(and `MongoStore.db[...]`) hands out: writes are sealed before they leave, reads are opened
when they come back, so no package above the store ever sees ciphertext. Per collection a
`SealSpec` names

- ``sealed`` fields: encrypted in place (AES-256-GCM, booking/crypto.py); never queried;
- ``indexed`` fields (phone numbers, e-mails, keys holding them): the field itself holds the
  blind index (HMAC-SHA256 of the normalised value), so equality, ``$in`` and the existing
  unique sparse indexes keep working unchanged, and ``<field>_enc`` holds the ciphertext the
  read path restores the value from;
- ``nested`` array fields whose elements carry sealed sub-fields (booking history notes).

Associated data is ``collection|field|stored _id``: a value copied to another record does not
decrypt. Aggregations pass through untouched (analytics counts never need plain text; a
group by an indexed field groups by its blind index). A document stored before encryption
was turned on is read as it is (plain values are returned unchanged) until
`python -m booking.keys rotate` seals it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from booking.crypto import Keyring, is_sealed

ENC_SUFFIX = "_enc"
# Operators whose values are compared as given: only "is it there / non-empty" checks are
# meaningful on a blind index, anything else would silently match nothing.
_PASS_OPS = frozenset({"$exists", "$type"})
_MAP_ONE = frozenset({"$eq", "$ne"})
_MAP_MANY = frozenset({"$in", "$nin"})


class SealedQueryError(ValueError):
    """A query or update the sealed layout cannot express (a programming error)."""


@dataclass(frozen=True)
class SealSpec:
    sealed: frozenset[str] = frozenset()
    indexed: Mapping[str, str] = field(default_factory=dict)  # field -> normalisation kind
    nested: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def touches(self, key: str) -> bool:
        root = key.split(".", 1)[0]
        return root in self.sealed or root in self.indexed or root in self.nested


# What is personal in each collection (docs/data-protection.md lists the same).
SPECS: dict[str, SealSpec] = {
    "users": SealSpec(sealed=frozenset({"name", "whatsapp_pending"}),
                      indexed={"email": "email", "whatsapp": "phone"}),
    "wa_contacts": SealSpec(sealed=frozenset({"name"}), indexed={"_id": "phone"}),
    "chat_logs": SealSpec(sealed=frozenset({"text", "entities", "error"}),
                          indexed={"wa_id": "phone"}),
    # inbox keys of contact events embed the number ("c:<wa_id>"): the key is indexed too
    "inbox": SealSpec(sealed=frozenset({"event", "lane", "error"}),
                      indexed={"_id": "", "wa_id": "phone"}),
    "outbox": SealSpec(sealed=frozenset({"text", "params", "email", "last_error"}),
                       indexed={"to": "phone"}),
    "bookings": SealSpec(sealed=frozenset({"cancel_reason"}),
                         nested={"history": frozenset({"note"})}),
    # a conversation handed to staff: the number (open_key: one open handoff per number),
    # the patient's name and the transcript of the last messages
    "handoffs": SealSpec(sealed=frozenset({"name"}),
                         indexed={"wa_id": "phone", "open_key": "phone"},
                         nested={"last_messages": frozenset({"text"})}),
}


class Sealer:
    """Seals and opens the documents of one collection."""

    def __init__(self, name: str, spec: SealSpec, keyring: Keyring) -> None:
        self.name, self.spec, self.keyring = name, spec, keyring

    # ---- values ---------------------------------------------------------------------------
    def index(self, field_name: str, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.startswith("bi1:")):
            return value
        return self.keyring.blind_index(value, self.spec.indexed[field_name])

    def seal_value(self, field_name: str, value: Any, doc_id: Any) -> Any:
        if value is None or (not value and isinstance(value, (str, list, dict))) \
                or is_sealed(value):
            return value  # nothing to hide in an absent or empty value (most history notes)
        return self.keyring.seal(value, self.name, field_name, _aad_id(doc_id))

    def open_value(self, field_name: str, value: Any, doc_id: Any) -> Any:
        if not is_sealed(value):
            return value  # None, or a plain value stored before encryption was on
        return self.keyring.open(value, self.name, field_name, _aad_id(doc_id))

    # ---- documents -----------------------------------------------------------------------
    def stored_id(self, doc_id: Any) -> Any:
        return self.index("_id", doc_id) if "_id" in self.spec.indexed else doc_id

    def seal_fields(self, fields: Mapping[str, Any], doc_id: Any) -> dict[str, Any]:
        """Fields of a document or of a $set, for the document stored under `doc_id`."""
        out: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "_id":
                out[key] = value if "_id" not in self.spec.indexed else doc_id
                if "_id" in self.spec.indexed:
                    out["_id" + ENC_SUFFIX] = self.seal_value("_id", value, doc_id)
            elif key in self.spec.indexed:
                out[key] = self.index(key, value)
                out[key + ENC_SUFFIX] = self.seal_value(key, value, doc_id)
            elif key in self.spec.sealed:
                out[key] = self.seal_value(key, value, doc_id)
            elif key in self.spec.nested and isinstance(value, list):
                out[key] = [self._seal_element(key, e, doc_id) for e in value]
            elif self.spec.touches(key):
                raise SealedQueryError(f"{self.name}: cannot set {key!r} inside a sealed field")
            else:
                out[key] = value
        return out

    def _seal_element(self, array: str, element: Any, doc_id: Any) -> Any:
        if not isinstance(element, Mapping):
            return element
        subs = self.spec.nested[array]
        return {k: (self.seal_value(f"{array}.{k}", v, doc_id) if k in subs else v)
                for k, v in element.items()}

    def seal_doc(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        doc = dict(doc)
        if "_id" not in doc:
            doc["_id"] = ObjectId()
        return self.seal_fields(doc, self.stored_id(doc["_id"]))

    def open_doc(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None:
            return None
        doc_id = doc.get("_id")
        spec = self.spec
        for key in spec.sealed:
            if key in doc:
                doc[key] = self.open_value(key, doc[key], doc_id)
        for key in spec.indexed:
            sealed = doc.pop(key + ENC_SUFFIX, None)
            if sealed is not None:
                doc[key] = self.open_value(key, sealed, doc_id)
        for array, subs in spec.nested.items():
            items = doc.get(array)
            if isinstance(items, list):
                doc[array] = [
                    {k: (self.open_value(f"{array}.{k}", v, doc_id) if k in subs else v)
                     for k, v in e.items()} if isinstance(e, Mapping) else e
                    for e in items]
        return doc

    # ---- queries -------------------------------------------------------------------------
    def query(self, query: Mapping[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in (query or {}).items():
            if key in ("$or", "$and", "$nor"):
                out[key] = [self.query(q) for q in value]
            elif key in self.spec.indexed:
                out[key] = self._index_condition(key, value)
            elif self.spec.touches(key):
                if value is None or value == {"$ne": None} or (
                        isinstance(value, Mapping) and set(value) <= _PASS_OPS):
                    out[key] = value
                else:
                    raise SealedQueryError(f"{self.name}.{key} is encrypted: not queryable")
            else:
                out[key] = value
        return out

    def _index_condition(self, key: str, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return self.index(key, value)
        cond: dict[str, Any] = {}
        for op, arg in value.items():
            if op in _MAP_ONE:
                cond[op] = self.index(key, arg)
            elif op in _MAP_MANY:
                cond[op] = [self.index(key, a) for a in arg]
            elif op in _PASS_OPS or (op in ("$gt", "$gte") and arg == ""):
                cond[op] = arg  # "present / non-empty": true of a blind index as well
            else:
                raise SealedQueryError(f"{self.name}.{key} is blind-indexed: {op} unsupported")
        return cond

    def projection(self, projection: Any) -> tuple[Any, bool]:
        """The projection to send and whether `_id` must be dropped from the results (the
        associated data needs it)."""
        if projection is None or not isinstance(projection, Mapping):
            return projection, False
        proj = dict(projection)
        drop_id = "_id" in proj and not proj["_id"]
        if drop_id:
            del proj["_id"]
        including = any(v for v in proj.values())
        for key in list(proj):
            if key in self.spec.indexed and key != "_id":
                proj[key + ENC_SUFFIX] = proj[key]
        if "_id" in self.spec.indexed and including:
            proj["_id" + ENC_SUFFIX] = 1
        return (proj or None), drop_id

    def update(self, update: Mapping[str, Any], doc_id: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for op, fields in update.items():
            if op in ("$set", "$setOnInsert"):
                if any(self.spec.touches(k) for k in fields):
                    if doc_id is None:
                        raise SealedQueryError(f"{self.name}: sealed update needs the _id")
                    out[op] = self.seal_fields(fields, doc_id)
                else:
                    out[op] = dict(fields)
            elif op == "$unset":
                out[op] = dict(fields)
                for key in fields:
                    if key in self.spec.indexed:
                        out[op][key + ENC_SUFFIX] = ""
            elif op == "$push":
                pushed: dict[str, Any] = {}
                for key, value in fields.items():
                    if key in self.spec.nested:
                        if doc_id is None:
                            raise SealedQueryError(f"{self.name}: sealed push needs the _id")
                        if isinstance(value, Mapping) and "$each" in value:
                            value = {**value, "$each": [self._seal_element(key, e, doc_id)
                                                        for e in value["$each"]]}
                        else:
                            value = self._seal_element(key, value, doc_id)
                    elif self.spec.touches(key):
                        raise SealedQueryError(f"{self.name}: cannot push to {key!r}")
                    pushed[key] = value
                out[op] = pushed
            else:
                if any(self.spec.touches(k) for k in fields):
                    raise SealedQueryError(f"{self.name}: {op} on a sealed field")
                out[op] = fields
        return out


def _aad_id(doc_id: Any) -> str:
    return str(doc_id)


def _doc_id(query: Mapping[str, Any], update: Mapping[str, Any] | None = None) -> Any:
    """The stored _id an update applies to: an equality on _id, else an upsert's _id."""
    value = query.get("_id")
    if value is not None and not isinstance(value, Mapping):
        return value
    insert = (update or {}).get("$setOnInsert") or {}
    return insert.get("_id")


@dataclass(frozen=True)
class _ManyResult:
    modified_count: int

    @property
    def matched_count(self) -> int:
        return self.modified_count


class SealedCursor:
    """A driver cursor whose documents are opened as they are read."""

    def __init__(self, cursor: Any, sealer: Sealer, drop_id: bool) -> None:
        self._cursor, self._sealer, self._drop_id = cursor, sealer, drop_id

    def _chain(self, name: str, *args: Any, **kwargs: Any) -> SealedCursor:
        self._cursor = getattr(self._cursor, name)(*args, **kwargs)
        return self

    def sort(self, *args: Any, **kwargs: Any) -> SealedCursor:
        return self._chain("sort", *args, **kwargs)

    def skip(self, n: int) -> SealedCursor:
        return self._chain("skip", n)

    def limit(self, n: int) -> SealedCursor:
        return self._chain("limit", n)

    def hint(self, index: Any) -> SealedCursor:
        return self._chain("hint", index)

    def batch_size(self, n: int) -> SealedCursor:
        return self._chain("batch_size", n)

    def explain(self) -> Any:
        return self._cursor.explain()

    def close(self) -> None:
        self._cursor.close()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for doc in self._cursor:
            opened = self._sealer.open_doc(doc)
            assert opened is not None
            if self._drop_id:
                opened.pop("_id", None)
            yield opened


class SealedCollection:
    """The store's face of a collection with personal fields (see the module docstring)."""

    def __init__(self, raw: Any, sealer: Sealer) -> None:
        self.raw = raw
        self.sealer = sealer

    def __getattr__(self, name: str) -> Any:  # indexes, drop, name, ...: the driver's own
        return getattr(self.raw, name)

    def _open(self, doc: Any, drop_id: bool = False) -> Any:
        opened = self.sealer.open_doc(doc)
        if opened is not None and drop_id:
            opened.pop("_id", None)
        return opened

    # ---- writes ----------------------------------------------------------------------------
    def insert_one(self, doc: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        sealed = self.sealer.seal_doc(doc)
        doc.setdefault("_id", sealed["_id"])  # what pymongo does with the caller's dict
        return self.raw.insert_one(sealed, *args, **kwargs)

    def insert_many(self, docs: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        return self.raw.insert_many([self.sealer.seal_doc(d) for d in docs], *args, **kwargs)

    def replace_one(self, query: Mapping[str, Any], doc: Mapping[str, Any], *args: Any,
                    **kwargs: Any) -> Any:
        q = self.sealer.query(query)
        doc_id = doc.get("_id", _doc_id(query))
        return self.raw.replace_one(
            q, self.sealer.seal_fields(doc, self.sealer.stored_id(doc_id)), *args, **kwargs)

    def _update_args(self, query: Mapping[str, Any], update: Mapping[str, Any],
                     upsert: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        q = self.sealer.query(query)
        doc_id = _doc_id(q, update)
        sealed = self.sealer.update(update, doc_id)
        plain_id = query.get("_id")
        if upsert and "_id" in self.sealer.spec.indexed and isinstance(plain_id, str):
            # an upsert by an indexed _id: the new document keeps its key, sealed
            sealed.setdefault("$setOnInsert", {})["_id" + ENC_SUFFIX] = \
                self.sealer.seal_value("_id", plain_id, doc_id)
        return q, sealed

    def update_one(self, query: Mapping[str, Any], update: Mapping[str, Any], *args: Any,
                   **kwargs: Any) -> Any:
        q, u = self._update_args(query, update, bool(kwargs.get("upsert")))
        return self.raw.update_one(q, u, *args, **kwargs)

    def update_many(self, query: Mapping[str, Any], update: Mapping[str, Any], *args: Any,
                    **kwargs: Any) -> Any:
        q = self.sealer.query(query)
        if not any(self.sealer.spec.touches(k) for fields in update.values()
                   for k in fields):
            return self.raw.update_many(q, self.sealer.update(update, None), *args, **kwargs)
        # Sealed values are bound to their document: one update per matched document,
        # each still conditional on the query (as update_many is, document by document).
        modified = 0
        for doc in self.raw.find(q, {"_id": 1}):
            res = self.raw.update_one({**q, "_id": doc["_id"]},
                                      self.sealer.update(update, doc["_id"]))
            modified += res.modified_count
        return _ManyResult(modified)

    def find_one_and_update(self, query: Mapping[str, Any], update: Mapping[str, Any],
                            *args: Any, projection: Any = None, **kwargs: Any) -> Any:
        q, u = self._update_args(query, update, bool(kwargs.get("upsert")))
        proj, drop_id = self.sealer.projection(projection)
        return self._open(self.raw.find_one_and_update(q, u, *args, projection=proj, **kwargs),
                          drop_id)

    def find_one_and_delete(self, query: Mapping[str, Any], *args: Any,
                            projection: Any = None, **kwargs: Any) -> Any:
        proj, drop_id = self.sealer.projection(projection)
        return self._open(self.raw.find_one_and_delete(self.sealer.query(query), *args,
                                                       projection=proj, **kwargs), drop_id)

    def find_one_and_replace(self, *args: Any, **kwargs: Any) -> Any:
        raise SealedQueryError(f"{self.name}: use replace_one (sealed documents)")

    def bulk_write(self, *args: Any, **kwargs: Any) -> Any:
        raise SealedQueryError(f"{self.name}: bulk writes would bypass the sealing")

    def distinct(self, key: str, query: Mapping[str, Any] | None = None, *args: Any,
                 **kwargs: Any) -> Any:
        if self.sealer.spec.touches(key):
            raise SealedQueryError(f"{self.name}.{key} is encrypted: no distinct values")
        return self.raw.distinct(key, self.sealer.query(query), *args, **kwargs)

    def delete_one(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        return self.raw.delete_one(self.sealer.query(query), *args, **kwargs)

    def delete_many(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        return self.raw.delete_many(self.sealer.query(query), *args, **kwargs)

    # ---- reads -----------------------------------------------------------------------------
    def find(self, query: Mapping[str, Any] | None = None, projection: Any = None,
             *args: Any, **kwargs: Any) -> SealedCursor:
        proj, drop_id = self.sealer.projection(projection)
        return SealedCursor(self.raw.find(self.sealer.query(query), proj, *args, **kwargs),
                            self.sealer, drop_id)

    def find_one(self, query: Mapping[str, Any] | None = None, projection: Any = None,
                 *args: Any, **kwargs: Any) -> Any:
        proj, drop_id = self.sealer.projection(projection)
        return self._open(self.raw.find_one(self.sealer.query(query), proj, *args, **kwargs),
                          drop_id)

    def count_documents(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> int:
        return int(self.raw.count_documents(self.sealer.query(query), *args, **kwargs))

    def aggregate(self, pipeline: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        return self.raw.aggregate(pipeline, *args, **kwargs)  # counts only: see module doc


class SealedDatabase:
    """`MongoStore.db`: collections with personal fields come back sealed, the rest as the
    driver's own. The raw database is `MongoStore.raw_db` (key rotation, the raw-scan tests)."""

    def __init__(self, raw: Any, keyring: Keyring) -> None:
        self.raw = raw
        self.keyring = keyring
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        found = self._cache.get(name)
        if found is None:
            spec = SPECS.get(name)
            found = self.raw[name] if spec is None else SealedCollection(
                self.raw[name], Sealer(name, spec, self.keyring))
            self._cache[name] = found
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)
