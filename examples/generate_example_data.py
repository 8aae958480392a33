"""Generate the example workspace's source data: vendors.csv, processing.json and hr.sqlite.

The data tells one story (Acme's vendors, sub-processors, the personal data they process and
the people accountable for them) with the findings governance rules look for, relative to the
fixed date 2026-11-24: expired and missing certifications, audits older than a year, high-risk
vendors processing personal data, processing outside an asset's allowed regions, sub-processor
chains two and three levels deep. A few records are broken on purpose so that the SHACL gate
has something to quarantine; ``data/README.md`` lists them and the shape that catches each.

Everything is drawn from one seeded ``random.Random``, so a run writes the same bytes every
time (SQLite: the same bytes for the same SQLite library version)::

    python examples/generate_example_data.py            # writes data/
    python examples/generate_example_data.py --out /tmp/d --seed 20261124
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

DEFAULT_SEED: Final = 20261124
NOW: Final = date(2026, 11, 24)

# --- master data --------------------------------------------------------------------------

DEPARTMENTS: Final = (
    ("EXEC", "Executive Office", 4),
    ("FIN", "Finance", 20),
    ("HR", "People & Culture", 16),
    ("SEC", "Information Security", 14),
    ("LEG", "Legal & Privacy", 10),
    ("ENG", "Engineering", 70),
    ("IT", "IT Operations", 20),
    ("SAL", "Sales", 40),
    ("MKT", "Marketing", 20),
    ("CS", "Customer Support", 50),
    ("PROC", "Procurement", 12),
    ("DATA", "Data & Analytics", 24),
)
ROLES: Final = (
    ("CEO", "Chief Executive Officer"),
    ("CFO", "Chief Financial Officer"),
    ("CISO", "Chief Information Security Officer"),
    ("DPO", "Data Protection Officer"),
    ("GC", "General Counsel"),
    ("HEAD", "Head of Department"),
    ("MGR", "Team Manager"),
    ("EA", "Executive Assistant"),
    ("ACC", "Accountant"),
    ("HRBP", "HR Business Partner"),
    ("REC", "Recruiter"),
    ("SECENG", "Security Engineer"),
    ("SECANL", "Security Analyst"),
    ("COUNSEL", "Legal Counsel"),
    ("PRIVACY", "Privacy Analyst"),
    ("SWE", "Software Engineer"),
    ("SRE", "Site Reliability Engineer"),
    ("ITADM", "IT Administrator"),
    ("AE", "Account Executive"),
    ("SDR", "Sales Development Representative"),
    ("MKTS", "Marketing Specialist"),
    ("AGENT", "Customer Support Agent"),
    ("BUYER", "Procurement Specialist"),
    ("DS", "Data Scientist"),
    ("DE", "Data Engineer"),
)
STAFF_ROLES: Final = {
    "EXEC": ("EA",),
    "FIN": ("ACC",),
    "HR": ("HRBP", "REC"),
    "SEC": ("SECENG", "SECANL"),
    "LEG": ("COUNSEL", "PRIVACY"),
    "ENG": ("SWE", "SWE", "SRE"),
    "IT": ("ITADM",),
    "SAL": ("AE", "SDR"),
    "MKT": ("MKTS",),
    "CS": ("AGENT",),
    "PROC": ("BUYER",),
    "DATA": ("DS", "DE"),
}
HEAD_ROLES: Final = {"FIN": "CFO", "SEC": "CISO", "LEG": "GC"}
# fmt: off
FIRST_NAMES: Final = (
    "Aisha", "Alejandro", "Amelia", "Anders", "Anjali", "Astrid", "Benedikt", "Bianca",
    "Carlos", "Chiara", "Chloe", "Daniel", "Dmitri", "Elena", "Emeka", "Emma", "Fatima",
    "Felix", "Freya", "Gabriel", "Grace", "Hana", "Hannah", "Hugo", "Ines", "Isaac", "Ivana",
    "Jakob", "James", "Jana", "Javier", "Joanna", "Jonas", "Julia", "Kai", "Kamala", "Karim",
    "Katarzyna", "Laila", "Lars", "Leon", "Lucia", "Luca", "Magnus", "Maria", "Mateo", "Maya",
    "Mei", "Mikael", "Nadia", "Niamh", "Nikolai", "Noah", "Olga", "Omar", "Oscar", "Paula",
    "Pedro", "Priya", "Rafael", "Rania", "Ruth", "Samir", "Sara", "Sebastian", "Sofia",
    "Soren", "Tariq", "Thea", "Tomas", "Ursula", "Valentina", "Viktor", "Wei", "Yusuf", "Zara",
    "Zofia",
)
LAST_NAMES: Final = (
    "Abbott", "Achebe", "Andersen", "Bauer", "Becker", "Bianchi", "Brennan", "Castillo",
    "Chen", "Costa", "Dahl", "Dubois", "Duarte", "Eriksen", "Fischer", "Fitzgerald",
    "Fontaine", "Garcia", "Gallagher", "Hansen", "Hartmann", "Haddad", "Ibrahim", "Ivanova",
    "Jansen", "Jensen", "Kaur", "Keller", "Kowalski", "Kumar", "Lambert", "Larsen",
    "Lindqvist", "Lopez", "Moreau", "Muller", "Murphy", "Nakamura", "Nielsen", "Novak",
    "Okafor", "Olsen", "Oyelaran", "Petrov", "Popescu", "Quinn", "Rahman", "Rossi", "Sato",
    "Schmidt", "Silva", "Singh", "Sorensen", "Suzuki", "Tanaka", "Torres", "Van Dijk", "Varga",
    "Vogel", "Wagner", "Walsh", "Weber", "Wojcik", "Yilmaz", "Zhang", "Ziegler",
)
# fmt: on
REGIONS: Final = (
    ("EU", "European Union"),
    ("UK", "United Kingdom"),
    ("US", "United States"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("IN", "India"),
    ("APAC", "Asia-Pacific"),
)
PROCESSES: Final = (
    ("payroll", "Payroll"),
    ("benefits", "Employee benefits administration"),
    ("recruiting", "Recruiting"),
    ("customer-support", "Customer support"),
    ("marketing", "Marketing communications"),
    ("analytics", "Product and customer analytics"),
    ("hosting", "Infrastructure hosting"),
    ("backup", "Backup and disaster recovery"),
    ("finance", "Financial accounting"),
    ("security-monitoring", "Security monitoring"),
    ("identity-verification", "Identity verification"),
    ("travel", "Business travel"),
    ("training", "Staff training"),
    ("legal", "Legal services"),
    ("printing", "Printing and mailing"),
    ("logistics", "Shipping and logistics"),
    ("payments", "Payment processing"),
    ("software-development", "Software development"),
)
SYSTEMS: Final = (
    ("SYS-001", "Workday HRIS", "HR"),
    ("SYS-002", "SAP S/4HANA Finance", "FIN"),
    ("SYS-003", "Salesforce Sales Cloud", "SAL"),
    ("SYS-004", "Zendesk Support", "CS"),
    ("SYS-005", "Snowflake Data Warehouse", "DATA"),
    ("SYS-006", "AWS Production Platform", "ENG"),
    ("SYS-007", "Okta Identity", "SEC"),
    ("SYS-008", "Jira", "ENG"),
    ("SYS-009", "Confluence", "IT"),
    ("SYS-010", "GitHub Enterprise", "ENG"),
    ("SYS-011", "Marketo Engage", "MKT"),
    ("SYS-012", "NetSuite Expenses", "FIN"),
    ("SYS-013", "ServiceNow", "IT"),
    ("SYS-014", "Splunk SIEM", "SEC"),
    ("SYS-015", "Greenhouse ATS", "HR"),
)
_EU_UK: Final = ("EU", "UK")
_WEST: Final = ("EU", "UK", "US")
# id, name, classification, system, allowed regions.  DA-030 is broken on purpose.
DATA_ASSETS: Final = (
    ("DA-001", "Employee master records", "personal", "SYS-001", _EU_UK),
    ("DA-002", "Payroll ledger", "personal", "SYS-002", _EU_UK),
    ("DA-003", "Candidate applications", "personal", "SYS-015", _WEST),
    ("DA-004", "Customer contact directory", "personal", "SYS-003", _WEST),
    ("DA-005", "Support ticket history", "personal", "SYS-004", _EU_UK),
    ("DA-006", "Customer behaviour analytics", "personal", "SYS-005", ("EU",)),
    ("DA-007", "General ledger", "confidential", "SYS-002", _WEST),
    ("DA-008", "Financial forecasts", "confidential", "SYS-002", _WEST),
    ("DA-009", "Product roadmap", "confidential", "SYS-008", (*_WEST, "CA")),
    ("DA-010", "Source code", "confidential", "SYS-010", (*_WEST, "CA")),
    ("DA-011", "Security event logs", "internal", "SYS-014", ("EU", "US")),
    ("DA-012", "Identity directory", "personal", "SYS-007", _WEST),
    ("DA-013", "Marketing email lists", "personal", "SYS-011", _WEST),
    ("DA-014", "Aggregated website analytics", "internal", "SYS-005", (*_WEST, "CA", "APAC")),
    ("DA-015", "Press materials", "public", "SYS-009", tuple(r for r, _ in REGIONS)),
    ("DA-016", "Internal wiki", "internal", "SYS-009", _WEST),
    ("DA-017", "Benefits enrolment", "personal", "SYS-001", _WEST),
    ("DA-018", "Health insurance claims", "personal", "SYS-001", ("EU",)),
    ("DA-019", "Expense reports", "personal", "SYS-012", _WEST),
    ("DA-020", "Travel bookings", "personal", "SYS-013", _WEST),
    ("DA-021", "Backup archives", "confidential", "SYS-006", ("EU",)),
    ("DA-022", "Production customer database", "personal", "SYS-006", _EU_UK),
    ("DA-023", "Contract repository", "confidential", "SYS-009", _WEST),
    ("DA-024", "Payment card tokens", "personal", "SYS-006", ("EU",)),
    ("DA-025", "Background check results", "personal", "SYS-015", _EU_UK),
    ("DA-026", "Survey responses", "personal", "SYS-005", (*_WEST, "CA")),
    ("DA-027", "Training records", "internal", "SYS-001", _WEST),
    ("DA-028", "Printed correspondence archive", "confidential", "SYS-013", ("EU",)),
    ("DA-029", "Vendor risk assessments", "confidential", "SYS-013", _WEST),
    ("DA-030", "Board minutes", "secret", "SYS-009", ("EU",)),
)


@dataclass(frozen=True)
class VendorSpec:
    """One vendor row as designed: fixed facts, plus findings pinned for the rules to find."""

    vendor_id: str
    name: str
    country: str
    criticality: str
    uses: tuple[tuple[str, str], ...] = ()  # (asset, process) it processes directly
    parent: str = ""
    risk: str | None = None  # pinned risk score (text, as written in the CSV)
    soc2: str | None = None  # pinned expiry: "" = none, else the text written
    iso: str | None = None
    audit: str | None = None


_V = VendorSpec
# fmt: off
VENDORS: Final = (
    _V("V001", "Northwind Payroll Services", "GB", "critical",
       (("DA-002", "payroll"), ("DA-001", "payroll")), risk="38"),
    _V("V002", "Helixa Cloud Hosting", "IE", "critical",
       (("DA-022", "hosting"), ("DA-010", "hosting"), ("DA-011", "hosting"),
        ("DA-024", "hosting")), risk="45", soc2="2027-03-31", iso="2027-09-30"),
    _V("V003", "Brightdesk Support Platform", "US", "high",
       (("DA-005", "customer-support"), ("DA-004", "customer-support"))),
    _V("V004", "Ledgerline Accounting", "DE", "high",
       (("DA-007", "finance"), ("DA-008", "finance"))),
    _V("V005", "Talentbridge Recruiting", "NL", "medium",
       (("DA-003", "recruiting"), ("DA-025", "recruiting"))),
    _V("V006", "Skyforge Analytics", "US", "high",
       (("DA-006", "analytics"), ("DA-014", "analytics"), ("DA-004", "analytics")),
       risk="82", soc2="2026-06-30", iso=""),
    _V("V007", "Quillmark Document Signing", "FR", "medium", (("DA-023", "legal"),)),
    _V("V008", "Ironclad Backup Solutions", "US", "critical",
       (("DA-021", "backup"), ("DA-022", "backup")),
       risk="77", soc2="2026-02-28", iso="2025-11-30", audit="2024-09-12"),
    _V("V009", "Parcelpoint Logistics", "DE", "low", (("DA-004", "logistics"),)),
    _V("V010", "Beaconmail Email Delivery", "US", "high",
       (("DA-013", "marketing"), ("DA-004", "marketing"))),
    _V("V011", "Stratus Data Centres", "IE", "high", parent="V002"),
    _V("V012", "Cobaltwire Networks", "NL", "medium", parent="V011",
       soc2="2026-01-31", iso=""),
    _V("V013", "Veritrace Identity Verification", "GB", "high",
       (("DA-022", "identity-verification"), ("DA-012", "identity-verification"))),
    _V("V014", "Lumen Translation Services", "ES", "low", parent="V003"),
    _V("V015", "Orbisline Contact Centres", "IN", "high", parent="V003",
       risk="74", iso="2026-08-31", soc2="", audit="2025-03-02"),
    _V("V016", "Kestrel Security Monitoring", "US", "critical",
       (("DA-011", "security-monitoring"), ("DA-012", "security-monitoring")), risk="35"),
    _V("V017", "Meridian Benefits Administration", "US", "high",
       (("DA-017", "benefits"), ("DA-018", "benefits"))),
    _V("V018", "Tessellate Design Studio", "PT", "low", (("DA-015", "marketing"),),
       soc2="", iso=""),
    _V("V019", "Harborview Legal Research", "GB", "low", (("DA-023", "legal"),)),
    _V("V020", "Pinecrest Facilities Management", "GB", "low",
       (("DA-001", "logistics"),), soc2="", iso=""),
    _V("V021", "Quantiva Market Research", "CA", "medium", (("DA-026", "analytics"),)),
    _V("V022", "Redwood Travel Management", "US", "medium", (("DA-020", "travel"),)),
    _V("V023", "Silverline Printing", "BE", "low",
       (("DA-028", "printing"), ("DA-015", "printing"))),
    _V("V024", "Atlas Cloud Storage", "US", "critical", (("DA-021", "backup"),),
       parent="V006", risk="58", soc2="2027-05-31", iso="2026-04-30"),
    _V("V025", "Nimbus Log Analytics", "DE", "medium", parent="V016"),
    _V("V026", "Clearpath Expense Management", "US", "medium", (("DA-019", "finance"),)),
    _V("V027", "Granite Tax Advisory", "LU", "medium", (("DA-007", "finance"),)),
    _V("V028", "Fernhill Training Academy", "IE", "low", (("DA-027", "training"),)),
    _V("V029", "Vantage Customer Insights", "US", "high",
       (("DA-006", "analytics"), ("DA-022", "analytics")),
       risk="91", soc2="", iso="", audit=""),
    _V("V030", "Polaris Payments", "NL", "critical", (("DA-024", "payments"),),
       soc2="2027-10-31", iso="2028-01-31"),
    _V("V031", "Emberline Offshore Support", "PH", "medium", parent="V024",
       risk="69", soc2="", iso="", audit="2023-11-15"),
    _V("V032", "Copperleaf Print & Mail", "FR", "low", (("DA-028", "printing"),)),
    _V("V033", "Wavelength Telecom", "GB", "medium", (("DA-005", "customer-support"),)),
    _V("V034", "Juniper Health Insurance Brokers", "DE", "high", (("DA-018", "benefits"),)),
    _V("V035", "Zenith Background Checks", "US", "high", parent="V005",
       risk="66", soc2="2025-12-31", iso=""),
    _V("V036", "Arcadia Event Services", "IT", "low", (("DA-013", "marketing"),)),
    _V("V037", "Keystone IT Staffing", "PL", "medium",
       (("DA-009", "software-development"), ("DA-010", "software-development"))),
    _V("V038", "Sable Threat Intelligence", "IL", "high", parent="V016"),
    _V("V039", "Mosaic Survey Tools", "US", "medium", parent="V021"),
    _V("V040", "Trident Courier Network", "US", "low", parent="V009"),
    # --- broken on purpose (see data/README.md) ---
    _V("V041", "", "SE", "medium"),
    _V("V042", "Gullwing Media Monitoring", "NO", "low", risk="high"),
    _V("V043", "Ravenstone Archiving", "CH", "medium", soc2="03/15/2025"),
    _V("V044", "Driftwood Catering", "GB", "severe"),
    _V("V045", "Sundial Scheduling", "DK", "low", parent="V045"),
    _V("V046", "Oakmere Consulting", "IE", "medium", risk="140"),
)
# Processing outside the asset's allowed regions, pinned: (vendor, asset, process, region).
OUT_OF_REGION: Final = (
    ("V006", "DA-006", "analytics", "US"),
    ("V029", "DA-022", "analytics", "US"),
    ("V002", "DA-024", "hosting", "US"),
    ("V033", "DA-005", "customer-support", "US"),
    ("V008", "DA-022", "backup", "US"),
)
# fmt: on
RISK_RANGES: Final = {"low": (5, 30), "medium": (20, 55), "high": (40, 75), "critical": (30, 70)}
CSV_COLUMNS: Final = (
    "vendor_id",
    "name",
    "criticality",
    "soc2_expiry",
    "iso27001_expiry",
    "last_audit_date",
    "risk_score",
    "contract_owner",
    "parent_vendor",
    "country",
)


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _expiry(rng: random.Random) -> str:
    """A certification expiry: mostly valid, sometimes expired, sometimes absent."""
    pick = rng.random()
    if pick < 0.6:
        return _day(rng, NOW + timedelta(days=30), date(2028, 6, 30)).isoformat()
    if pick < 0.8:
        return _day(rng, date(2025, 1, 1), NOW - timedelta(days=1)).isoformat()
    return ""


# --- HR -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Employee:
    """One row of the employees table."""

    employee_id: str
    full_name: str
    email: str
    department_id: str
    role_id: str
    manager_id: str | None


def _employees(rng: random.Random) -> list[Employee]:
    """An org chart: CEO, department heads (CFO, CISO, GC …), managers, staff; plus a DPO."""
    people: list[Employee] = []
    used_emails: set[str] = set()

    def hire(dept: str, role: str, manager: str | None) -> str:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace(" ", "")
        email, n = f"{local}@acme.example", 2
        while email in used_emails:
            email, n = f"{local}{n}@acme.example", n + 1
        used_emails.add(email)
        ident = f"E{len(people) + 1:04d}"
        people.append(Employee(ident, f"{first} {last}", email, dept, role, manager))
        return ident

    ceo = hire("EXEC", "CEO", None)
    hire("LEG", "DPO", ceo)  # reports to the CEO, not to Legal: Art. 38(3) GDPR independence
    for dept, _, size in DEPARTMENTS:
        if dept == "EXEC":
            for _ in range(size - 1):
                hire(dept, "EA", ceo)
            continue
        head = hire(dept, HEAD_ROLES.get(dept, "HEAD"), ceo)
        managers = [hire(dept, "MGR", head) for _ in range(max(1, size // 12))]
        for _ in range(size - 1 - len(managers) - (1 if dept == "LEG" else 0)):
            hire(dept, rng.choice(STAFF_ROLES[dept]), rng.choice(managers))
    return people


def _write_sqlite(path: Path, people: list[Employee]) -> None:
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        con.executescript(
            """
            CREATE TABLE departments (
                department_id TEXT PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE roles (
                role_id TEXT PRIMARY KEY, title TEXT NOT NULL);
            CREATE TABLE employees (
                employee_id TEXT PRIMARY KEY,
                full_name TEXT NOT NULL,
                email TEXT NOT NULL,
                department_id TEXT REFERENCES departments (department_id),
                role_id TEXT NOT NULL REFERENCES roles (role_id),
                manager_id TEXT REFERENCES employees (employee_id));
            CREATE TABLE regions (
                region_id TEXT PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE processes (
                process_id TEXT PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE systems (
                system_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                owner_department_id TEXT NOT NULL REFERENCES departments (department_id));
            CREATE TABLE data_assets (
                asset_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                classification TEXT NOT NULL,
                system_id TEXT NOT NULL REFERENCES systems (system_id));
            CREATE TABLE data_asset_regions (
                asset_id TEXT NOT NULL REFERENCES data_assets (asset_id),
                region_id TEXT NOT NULL REFERENCES regions (region_id),
                PRIMARY KEY (asset_id, region_id));
            """
        )
        con.executemany(
            "INSERT INTO departments VALUES (?, ?)", [(d, n) for d, n, _ in DEPARTMENTS]
        )
        con.executemany("INSERT INTO roles VALUES (?, ?)", ROLES)
        con.executemany(
            "INSERT INTO employees VALUES (?, ?, ?, ?, ?, ?)",
            [
                (p.employee_id, p.full_name, p.email, p.department_id, p.role_id, p.manager_id)
                for p in people
            ],
        )
        con.executemany("INSERT INTO regions VALUES (?, ?)", REGIONS)
        con.executemany("INSERT INTO processes VALUES (?, ?)", PROCESSES)
        con.executemany("INSERT INTO systems VALUES (?, ?, ?)", SYSTEMS)
        con.executemany(
            "INSERT INTO data_assets VALUES (?, ?, ?, ?)",
            [(a, n, c, s) for a, n, c, s, _ in DATA_ASSETS],
        )
        con.executemany(
            "INSERT INTO data_asset_regions VALUES (?, ?)",
            [(a, r) for a, _, _, _, regions in DATA_ASSETS for r in regions],
        )
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()


def _break_hr(people: list[Employee], rng: random.Random) -> list[Employee]:
    """One employee names a department that does not exist (`MKTG`, a stale code)."""
    staff = [i for i, p in enumerate(people) if p.department_id == "MKT" and p.role_id == "MKTS"]
    i = rng.choice(staff)
    broken = people[i]
    people[i] = Employee(
        broken.employee_id,
        broken.full_name,
        broken.email,
        "MKTG",
        broken.role_id,
        broken.manager_id,
    )
    return people


# --- vendors and processing ---------------------------------------------------------------


def _vendor_rows(rng: random.Random, people: list[Employee]) -> list[dict[str, str]]:
    owners = [
        p.employee_id
        for p in people
        if p.department_id == "PROC" or p.role_id in {"CFO", "CISO", "HEAD", "GC"}
    ]
    rows: list[dict[str, str]] = []
    for v in VENDORS:
        low, high = RISK_RANGES.get(v.criticality, (10, 60))
        risk = str(rng.randint(low, high))
        soc2, iso = _expiry(rng), _expiry(rng)
        audit = (
            _day(rng, NOW - timedelta(days=330), NOW - timedelta(days=5))
            if rng.random() < 0.7
            else _day(rng, date(2023, 6, 1), NOW - timedelta(days=400))
        ).isoformat()
        rows.append(
            {
                "vendor_id": v.vendor_id,
                "name": v.name,
                "criticality": v.criticality,
                "soc2_expiry": soc2 if v.soc2 is None else v.soc2,
                "iso27001_expiry": iso if v.iso is None else v.iso,
                "last_audit_date": audit if v.audit is None else v.audit,
                "risk_score": risk if v.risk is None else v.risk,
                "contract_owner": rng.choice(owners),
                "parent_vendor": v.parent,
                "country": v.country,
            }
        )
    return rows


def _relationships(rng: random.Random) -> list[dict[str, object]]:
    allowed = {a: regions for a, _, _, _, regions in DATA_ASSETS}
    planned: list[tuple[str, str, str, str]] = []
    for v in VENDORS:
        for asset, process in v.uses:
            regions = sorted(allowed[asset])
            count = 2 if len(regions) > 1 and rng.random() < 0.6 else 1
            for region in sorted(rng.sample(regions, count)):
                planned.append((v.vendor_id, asset, process, region))
    planned.extend(OUT_OF_REGION)
    planned.sort()
    items: list[dict[str, object]] = []
    for vendor, asset, process, region in planned:
        started = _day(rng, date(2019, 1, 1), date(2026, 10, 31)).isoformat()
        items.append(
            {
                "id": f"P-{len(items) + 1:04d}",
                "vendor": vendor,
                "asset": asset,
                "process": process,
                "region": region,
                "started": started,
            }
        )
    # --- broken on purpose (see data/README.md) ---
    n = len(items)
    items.append(
        {
            "id": f"P-{n + 1:04d}",
            "vendor": "V999",
            "asset": "DA-004",
            "process": "marketing",
            "region": "EU",
            "started": "2025-04-01",
        }
    )
    items.append(
        {
            "id": f"P-{n + 2:04d}",
            "vendor": "V013",
            "asset": "DA-012",
            "process": "identity-verification",
            "started": "2025-07-15",
        }
    )
    items.append(
        {
            "id": f"P-{n + 3:04d}",
            "vendor": "V026",
            "asset": "DA-019",
            "process": "finance",
            "region": "UK",
            "started": 20250315,
        }
    )
    return items


def generate(out: Path, *, seed: int = DEFAULT_SEED) -> tuple[Path, Path, Path]:
    """Write vendors.csv, processing.json and hr.sqlite into ``out``; same seed, same bytes."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    people = _break_hr(_employees(rng), rng)
    hr = out / "hr.sqlite"
    _write_sqlite(hr, people)

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_vendor_rows(rng, people))
    vendors = out / "vendors.csv"
    vendors.write_bytes(buf.getvalue().encode("utf-8"))

    processing = out / "processing.json"
    doc = {"relationships": _relationships(rng)}
    processing.write_bytes((json.dumps(doc, indent=2) + "\n").encode("utf-8"))
    return vendors, processing, hr


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: ``--out DIR`` (default: the repository's data/), ``--seed``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    for path in generate(args.out, seed=args.seed):
        print(path)


if __name__ == "__main__":
    main()
