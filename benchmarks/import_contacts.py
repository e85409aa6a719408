"""Contact import speed against a raw bulk load of the same CSV file, measured in the same run.

ratio = our import_contacts (mapping, validation, dedupe, companies, enrichment score, audit) over the
baseline: csv.reader + one-transaction executemany of the raw text into a plain staging table on SQLite,
COPY ... FROM STDIN of the file on PostgreSQL. Both run on a fresh temporary database. Target: <= 2.0.

The database floor is measured in the same run, after each import: the rows our import wrote are copied into
a temporary table, contacts is emptied, and one INSERT INTO contacts SELECT * FROM that table is timed with
its commit. It is what writing the final rows costs with contacts' indexes and foreign keys, whatever the
Python side does; the baseline writes to a table without any. The RESULT line adds floor_s,
floor_ratio = ours / floor and floor_vs_baseline = floor / baseline (the ratio a zero-cost Python side
would reach). Each figure is the best of --repeat runs.

    python benchmarks/import_contacts.py [--rows 100000 | --quick] [--repeat 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core.models  # noqa: F401  (every table in the metadata)
from core.auth.actor import SYSTEM
from core.config import load_settings
from core.crm.importer import ImportOptions, ImportReport, import_contacts
from core.db import Base, _sqlite_pragmas
from core.services import build_services

# Apollo's people export (a realistic subset of its ~60 columns).
HEADERS = [
    "First Name", "Last Name", "Title", "Company", "Company Name for Emails", "Email", "Email Status",
    "Seniority", "Departments", "Contact Owner", "Work Direct Phone", "Mobile Phone", "Corporate Phone",
    "Stage", "Lists", "Last Contacted", "# Employees", "Industry", "Keywords", "Person Linkedin Url",
    "Website", "Company Linkedin Url", "City", "State", "Country", "Company City", "Company Country",
    "Technologies", "Annual Revenue", "Apollo Contact Id", "Apollo Account Id",
]
FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Chloé", "Søren", "Zoë", "Aarav", "Mei", "Olusegun", "Fatima", "Lukas"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernández", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Müller", "Nakamura", "Okafor", "Dubois"]
TITLES = ["VP Sales", "Head of Growth", "CTO", "Chief Executive Officer", "Director of Marketing",
          "Sales Operations Manager", "Account Executive", "Head of RevOps", "Founder", "Engineering Manager"]
INDUSTRIES = ["Computer Software", "Logistics & Supply Chain", "Financial Services", "Hospital & Health Care",
              "Marketing & Advertising", "Retail", "Construction", "Education Management"]
TECH = ["Salesforce", "HubSpot", "AWS", "Google Analytics", "Slack", "Zendesk", "Stripe", "Shopify",
        "Marketo", "Gong", "Outreach", "Snowflake"]
FREE = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com"]
SIZES = ["11", "50", "120", "250", "800", "2400", "10000"]
CITIES = [("Austin", "Texas", "United States"), ("London", "England", "United Kingdom"),
          ("Berlin", "Berlin", "Germany"), ("Paris", "Ile-de-France", "France"), ("Toronto", "Ontario", "Canada")]


def ascii_name(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def build_csv(rows: int, seed: int = 20260101) -> bytes:
    """Apollo-like export: ~2,000 company domains, ~8% free mail, ~1% bad rows, a few formula-looking cells."""
    rng = random.Random(seed)
    companies = []
    for i in range(2000):
        word = rng.choice(["acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli", "vandelay",
                           "cyberdyne", "tyrell", "soylent", "wonka"])
        domain = f"{word}{i}.{rng.choice(['com', 'io', 'co', 'de', 'fr'])}"
        companies.append((f"{word.title()} {i} Inc.", f"{word.title()} {i}", domain,
                          rng.choice(INDUSTRIES), rng.choice(SIZES)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for n in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local_first, local_last = ascii_name(first), ascii_name(last)
        name, short, domain, industry, size = rng.choice(companies)
        roll = rng.random()
        if roll < 0.08:
            email = f"{local_first}.{local_last}{n}@{rng.choice(FREE)}"
        else:
            email = f"{local_first[0]}{local_last}.{n}@{domain}"
        if roll > 0.99:  # ~1% bad: broken, missing or truncated addresses
            email = rng.choice(["", f"{local_first}@", f"{first} {last}", f"{local_first}@@{domain}"])
        title = rng.choice(TITLES) if roll > 0.002 else "=HYPERLINK(\"http://evil.example\",\"x\")"
        city, state, country = rng.choice(CITIES)
        techs = ", ".join(rng.sample(TECH, rng.randint(0, 4)))
        phone = f"+1 512 555 {rng.randint(0, 9999):04d}" if rng.random() < 0.7 else ""
        writer.writerow([
            first, last, title, name, short, email, rng.choice(["Verified", "Guessed", "Unavailable"]),
            rng.choice(["vp", "director", "c_suite", "manager"]), "Sales", "Riley Rep", phone,
            "" if rng.random() < 0.5 else f"+1 737 555 {rng.randint(0, 9999):04d}", "+1 512 555 0100",
            "Cold", "Q1 list", "", size, industry, "saas, b2b", f"http://www.linkedin.com/in/{first.lower()}-{n}",
            f"https://www.{domain}", f"http://www.linkedin.com/company/{short.lower().replace(' ', '-')}",
            city, state, country, city, country, techs, f"{rng.randint(1, 900)}000000",
            uuid.UUID(int=rng.getrandbits(128)).hex[:24], uuid.UUID(int=rng.getrandbits(128)).hex[:24],
        ])
    return out.getvalue().encode("utf-8")


def baseline_sqlite(engine: Engine, data: bytes) -> float:
    columns = len(HEADERS)
    raw = engine.raw_connection()
    try:
        raw.execute("DROP TABLE IF EXISTS staging")
        raw.execute(f"CREATE TABLE staging ({', '.join(f'c{i} TEXT' for i in range(columns))})")
        raw.commit()
        started = time.perf_counter()
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
        next(reader)
        cursor: Any = raw.cursor()  # sqlite3 takes any iterable of rows: the reader streams into the insert
        cursor.executemany(f"INSERT INTO staging VALUES ({', '.join('?' * columns)})", reader)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def baseline_postgres(engine: Engine, data: bytes) -> float:
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        with driver.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS staging")
            cur.execute(f"CREATE TABLE staging ({', '.join(f'c{i} text' for i in range(len(HEADERS)))})")
        driver.commit()
        started = time.perf_counter()
        with driver.cursor() as cur, cur.copy("COPY staging FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            view = memoryview(data)
            for offset in range(0, len(data), 1 << 20):
                copy.write(view[offset: offset + (1 << 20)])
        driver.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def ours(url: str, data_dir: Path, data: bytes) -> tuple[float, ImportReport]:
    settings = load_settings(_env_file=None, data_dir=data_dir, database_url=url)
    services = build_services(settings)
    try:
        started = time.perf_counter()
        report = import_contacts(services.uow(), actor=SYSTEM, data=data, options=ImportOptions())
        return time.perf_counter() - started, report
    finally:
        services.dispose()


def database_floor(engine: Engine, backend: str) -> float:
    """Seconds to INSERT the rows our import left in contacts into an emptied contacts table, and commit.

    Leaves contacts as it found it: the same rows come back with their ids."""
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        cursor: Any = driver.cursor()
        if backend == "postgresql":
            cursor.execute("CREATE TEMPORARY TABLE final_rows AS SELECT * FROM contacts")
            cursor.execute("TRUNCATE contacts CASCADE")  # a new, empty table file, as after create_all
        else:
            cursor.execute("CREATE TEMPORARY TABLE final_rows AS SELECT * FROM main.contacts")
            cursor.execute("DELETE FROM main.contacts")
        driver.commit()
        started = time.perf_counter()
        cursor.execute("INSERT INTO contacts SELECT * FROM final_rows")
        driver.commit()
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE final_rows")
        driver.commit()
        cursor.close()
        return seconds
    finally:
        raw.close()


def fresh_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS staging"))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of each side (default 3)")
    parser.add_argument("--database-url", default=None, help="default: an SQLite file in a temp dir")
    args = parser.parse_args()
    rows = 20_000 if args.quick else args.rows

    with tempfile.TemporaryDirectory(prefix="sa_bench_") as tmp:
        tmp_dir = Path(tmp)
        data = build_csv(rows)
        (tmp_dir / "contacts.csv").write_bytes(data)
        admin: Engine | None = None
        if args.database_url and args.database_url.startswith("postgres"):
            backend = "postgresql"
            server = make_url(load_settings(_env_file=None, database_url=args.database_url).effective_database_url)
            name = f"sa_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = server.set(database=name).render_as_string(hide_password=False)
        else:
            backend = "sqlite"
            url = args.database_url or f"sqlite:///{tmp_dir / 'bench.db'}"
        try:
            engine = create_engine(url)
            if backend == "sqlite":  # the same pragmas as the application's engine
                event.listen(engine, "connect", _sqlite_pragmas)
            baseline_s, ours_s, floor_s, report = float("inf"), float("inf"), float("inf"), None
            for _ in range(max(1, args.repeat)):
                fresh_schema(engine)
                load = baseline_postgres if backend == "postgresql" else baseline_sqlite
                baseline_s = min(baseline_s, load(engine, (tmp_dir / "contacts.csv").read_bytes()))
                fresh_schema(engine)
                seconds, report = ours(url, tmp_dir, (tmp_dir / "contacts.csv").read_bytes())
                ours_s = min(ours_s, seconds)
                floor_s = min(floor_s, database_floor(engine, backend))
            engine.dispose()
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

    ratio = ours_s / baseline_s
    print(f"{'backend':<22}{backend} (best of {max(1, args.repeat)} runs each)")
    print(f"{'rows in file':<22}{rows:,} ({len(data) / 1e6:.1f} MB, {len(HEADERS)} columns)")
    print(f"{'baseline (raw load)':<22}{baseline_s:.3f} s  {rows / baseline_s:,.0f} rows/s")
    print(f"{'import_contacts':<22}{ours_s:.3f} s  {rows / ours_s:,.0f} rows/s")
    print(f"{'database floor':<22}{floor_s:.3f} s  (INSERT of the final rows into an empty contacts table)")
    if report is not None:
        print(f"{'outcome':<22}created={report.created} updated={report.updated} skipped={report.skipped} "
              f"failed={report.failed} companies={report.companies_created}")
    print(f"RESULT import_contacts ratio={ratio:.2f} target=2.0 rows={rows} ours_s={ours_s:.3f} "
          f"baseline_s={baseline_s:.3f} backend={backend} floor_s={floor_s:.3f} "
          f"floor_ratio={ours_s / floor_s:.2f} floor_vs_baseline={floor_s / baseline_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
