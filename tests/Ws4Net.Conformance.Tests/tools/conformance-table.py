#!/usr/bin/env python3
"""Counts a TRX file of tests/Ws4Net.Conformance.Tests per family and role and prints the markdown table
of docs/conformance.md.

    dotnet test tests/Ws4Net.Conformance.Tests --logger "trx;LogFileName=conformance.trx" --results-directory artifacts/conformance
    python3 tests/Ws4Net.Conformance.Tests/tools/conformance-table.py artifacts/conformance/conformance.trx

TRX files carry no traits, so the family comes from the class name (FamilyNN...); the harness test
EveryFamilyClass_CarriesTheFamilyTraitOfItsName keeps class names and [Trait("Family", "N")] in step.
The role comes from the test's "role: Server" / "role: Client" argument.
"""
import re
import sys
import xml.etree.ElementTree as ET

NAMES = {
    1: "Framing", 2: "Pings/pongs", 3: "Reserved bits", 4: "Reserved opcodes", 5: "Fragmentation",
    6: "UTF-8", 7: "Close", 8: "Limits and load", 9: "Auto-fragmentation on send",
}


def main(path):
    ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
    root = ET.parse(path).getroot()
    counts = {}
    for result in root.iter("{%s}UnitTestResult" % ns["t"]):
        name = result.get("testName", "")
        outcome = result.get("outcome", "")
        family = re.search(r"\.Family(\d\d)", name)
        key = int(family.group(1)) if family else "harness"
        role = re.search(r"role: (Server|Client)", name)
        role = role.group(1) if role else "-"
        passed, total = counts.get((key, role), (0, 0))
        counts[(key, role)] = (passed + (outcome == "Passed"), total + 1)

    def cell(key, role):
        passed, total = counts.get((key, role), (0, 0))
        return f"{passed}/{total}"

    print("| family | server role passed/total | client role passed/total |")
    print("| --- | --- | --- |")
    sums = {"Server": [0, 0], "Client": [0, 0]}
    for n in range(1, 10):
        print(f"| {n}. {NAMES[n]} | {cell(n, 'Server')} | {cell(n, 'Client')} |")
        for role in sums:
            p, t = counts.get((n, role), (0, 0))
            sums[role][0] += p
            sums[role][1] += t
    print(f"| **total** | **{sums['Server'][0]}/{sums['Server'][1]}** | **{sums['Client'][0]}/{sums['Client'][1]}** |")
    hp, ht = counts.get(("harness", "-"), (0, 0))
    print(f"\nHarness self-tests (no endpoint, no role): {hp}/{ht}.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "conformance.trx")
