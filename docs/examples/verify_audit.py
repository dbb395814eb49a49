"""Check an exported audit trail outside the product: python3 verify_audit.py TRAIL KEYS

TRAIL is a run's export (run-<id>.jsonl or run-<id>.csv); KEYS is what
GET /api/audit/public-key answers (saved as a file), or a PEM public key. Needs only
Python and the `cryptography` package. Prints "intact: ..." and exits 0, or says what is
wrong and exits 1.
"""

import base64
import csv
import hashlib
import json
import sys

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def read_trail(path):
    """The events (each with its hash) and the signed head (None if there is none)."""
    if path.endswith(".csv"):
        with open(path, newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        signed = rows and rows[-1]["type"] == "signed_head"
        head = json.loads(rows.pop()["payload"]) if signed else None
        events = [
            {**row, "seq": int(row["seq"]), "payload": json.loads(row["payload"]),
             **{k: row[k] or None for k in ("agent", "span_id", "parent_span_id")}}
            for row in rows
        ]  # fmt: skip
        return events, head
    with open(path, encoding="utf-8") as file:
        events = [json.loads(line) for line in file]
    head = events.pop()["signed_head"] if events and "signed_head" in events[-1] else None
    return events, head


def read_keys(path):
    """The public keys by key id: the start of the sha256 of each key's 32 raw bytes."""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    pems = [k["public_key_pem"] for k in json.loads(text)["keys"]] if text[0] == "{" else [text]
    keys = [load_pem_public_key(pem.encode()) for pem in pems]
    raw = [key.public_bytes(Encoding.Raw, PublicFormat.Raw) for key in keys]
    return {hashlib.sha256(r).hexdigest()[:16]: key for r, key in zip(raw, keys, strict=True)}


def check(events, head, keys):
    """What is wrong with the trail, or None."""
    previous, hashes = "0" * 64, {0: "0" * 64}
    for number, event in enumerate(events, start=1):
        claimed = event.pop("hash")
        if event["seq"] != number:
            return f"broken at event {number}: it is missing"
        if hashlib.sha256((previous + canonical(event)).encode()).hexdigest() != claimed:
            return f"broken at event {number}: its content does not match its hash"
        previous = hashes[number] = claimed
    if head is None:
        return "no signed head: nothing vouches that the trail is complete and not rewritten"
    signed = {k: v for k, v in head.items() if k != "signature"}
    if head["key_id"] not in keys:
        return f"signed with key {head['key_id']}, which is not among the keys given"
    try:
        keys[head["key_id"]].verify(base64.b64decode(head["signature"]), canonical(signed).encode())
    except Exception:
        return "the signed head does not match its signature: it was changed"
    if head["seq"] > len(events):
        return f"truncated: the head signed at {head['signed_at']} says the run had {head['seq']} events, the trail has {len(events)}"
    if hashes[head["seq"]] != head["hash"]:
        return f"rewritten: event {head['seq']}'s hash is not the one signed at {head['signed_at']}"
    if head["seq"] < len(events):
        return f"events {head['seq'] + 1} to {len(events)} come after the signed head: no signature vouches for them (export again once the run has stopped)"
    return None


if __name__ == "__main__":
    events, head = read_trail(sys.argv[1])
    problem = check(events, head, read_keys(sys.argv[2]))
    if problem:
        sys.exit(problem)
    print(
        f"intact: {len(events)} events of run {head['run']}, signed by key {head['key_id']} at {head['signed_at']}"
    )
