#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""validate_kcidb.py SCHEMA DOC: DOC against SCHEMA (JSON Schema 2020-12,
python3-jsonschema), plus the date-time fields jsonschema leaves unchecked
without optional format packages.  Prints "valid: N tests" or the first
error with its place in DOC; exit 0 valid, 1 not."""
import datetime
import json
import sys

import jsonschema


def times(v, where=""):
    """(where, value) of every *_time and _timestamp string in V."""
    if isinstance(v, dict):
        for k, x in v.items():
            if (k.endswith("_time") or k == "_timestamp") and isinstance(x, str):
                yield f"{where}/{k}", x
            elif k != "misc":
                yield from times(x, f"{where}/{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from times(x, f"{where}/{i}")


def main(schema_path, doc_path):
    schema = json.load(open(schema_path))
    doc = json.load(open(doc_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        print(f"{doc_path}: /{'/'.join(map(str, e.path))}: {e.message} ({len(errors)} errors)")
        return 1
    for where, t in times(doc):
        try:
            datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
        except ValueError:
            print(f"{doc_path}: {where}: not an RFC 3339 date-time: {t}")
            return 1
    print(f"valid: {len(doc.get('tests', []))} tests")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
