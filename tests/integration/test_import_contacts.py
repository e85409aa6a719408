"""Contact import from CSV exports: mapping, bad rows by line, duplicates, companies, formulas, the CLI."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from typer.testing import CliRunner

from cli import runtime
from cli.main import app
from core.audit.models import AuditEntry
from core.config import load_settings
from core.crm import importer
from core.crm.enrichment import calculate_enrichment_score
from core.crm.importer import (
    ImportOptions,
    ImportReport,
    detect_mapping,
    import_contacts,
    read_csv_headers,
)
from core.crm.models import Company, Contact, LifecycleStage
from core.errors import Conflict, PermissionDenied, ValidationFailed
from core.exporting import rows_to_csv_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "csv"


def run_import(services, actor, data: bytes | str, **options) -> ImportReport:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return import_contacts(services.uow(), actor=actor, data=raw, options=ImportOptions(**options))


def contact(services, email: str) -> Contact | None:
    """The stored contact with its company, detached (the unit of work rolls back on exit)."""
    with services.uow() as uow:
        found = uow.session.scalar(
            select(Contact).options(selectinload(Contact.company)).where(Contact.email == email)
        )
        if found is not None:
            uow.session.expunge_all()
        return found


def count(services, model) -> int:
    with services.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def reasons(report: ImportReport) -> dict[int, str]:
    return {e.line: e.reason for e in report.errors}


# Header mapping of common exports -------------------------------------------------------------------


def test_hubspot_export_is_mapped_and_imported(services, admin):
    data = (FIXTURES / "hubspot_contacts.csv").read_bytes()
    mapping = detect_mapping(read_csv_headers(data))
    assert mapping["Email"] == "email" and mapping["Job Title"] == "title"
    assert mapping["Website URL"] == "company_domain" and mapping["Contact owner"] is None
    report = run_import(services, admin, data)
    assert (report.created, report.failed) == (2, 0)
    hana = contact(services, "hana.kowalski@brightwave.io")
    assert (hana.first_name, hana.last_name, hana.title) == ("Hana", "Kowalski", "VP Marketing")
    assert hana.lifecycle_stage is LifecycleStage.engaged  # "Sales Qualified Lead"
    assert (hana.timezone, hana.country, hana.company_size) == ("America/New_York", "United States", "51-200")
    assert hana.company.domain == "brightwave.io" and hana.company.name == "Brightwave"
    assert contact(services, "omar@northpeak.com").lifecycle_stage is LifecycleStage.prospect  # "Lead"


def test_apollo_export_is_mapped_and_imported(services, admin):
    data = (FIXTURES / "apollo_people.csv").read_bytes()
    mapping = detect_mapping(read_csv_headers(data))
    assert mapping["Company Name for Emails"] == "company_name" and mapping["Company"] is None
    assert mapping["Person Linkedin Url"] == "linkedin_url" and mapping["Company Linkedin Url"] is None
    assert mapping["# Employees"] == "company_size" and mapping["Website"] == "company_domain"
    assert mapping["Stage"] is None  # Apollo's sequence stages are not lifecycle stages
    run_import(services, admin, data)
    lena = contact(services, "lena.fischer@quantix.de")
    assert lena.title == "Chief Revenue Officer" and lena.company_size == "250"
    assert lena.technologies == ["Salesforce", "HubSpot", "AWS"]
    assert lena.linkedin_url == "http://www.linkedin.com/in/lenafischer"
    assert lena.phone == "+49 30 5550 1234"  # no direct line: the mobile number is next in line
    assert (lena.company.domain, lena.company.name) == ("quantix.de", "Quantix")
    marco = contact(services, "marco.rossi@gmail.com")
    assert marco.company.domain == "verdilabs.it"  # the website names the employer even for free mail


def test_sales_navigator_export_prefers_the_public_linkedin_url(services, admin):
    data = (FIXTURES / "sales_navigator.csv").read_bytes()
    mapping = detect_mapping(read_csv_headers(data))
    assert mapping["LinkedIn URL"] == "linkedin_url" and mapping["Profile URL"] is None
    assert mapping["Job Title"] == "title" and mapping["Company"] == "company_name"
    assert detect_mapping(["Profile URL", "Email"])["Profile URL"] == "linkedin_url"
    run_import(services, admin, data)
    priya = contact(services, "priya@kestrelfreight.com")
    assert priya.linkedin_url == "https://www.linkedin.com/in/priya-natarajan"
    assert priya.title == "Director of Operations" and priya.company.name == "Kestrel Freight"


def test_outlook_job_title_wins_over_the_honorific_title(services, admin):
    data = (FIXTURES / "outlook_contacts.csv").read_bytes()
    mapping = detect_mapping(read_csv_headers(data))
    assert mapping["Job Title"] == "title" and mapping["Title"] is None
    assert mapping["E-mail Address"] == "email"
    assert mapping["E-mail Display Name"] is None and mapping["E-mail 2 Address"] is None
    assert mapping["Business Phone"] == "phone" and mapping["Company"] == "company_name"
    run_import(services, admin, data)
    ingrid = contact(services, "ingrid.berg@fjordanalytics.no")
    assert ingrid.title == "Chief Financial Officer"
    assert ingrid.phone == "+47 22 55 50 10" and ingrid.notes == "Met at Nordic SaaS Summit"
    assert ingrid.company.domain == "fjordanalytics.no"


def test_a_adjusted_mapping_overrides_detection(services, admin):
    data = "E-mail,Kind,Position\nzoe@acme.com,Customer,CTO\n"
    report = run_import(services, admin, data,
                        mapping={"E-mail": "email", "Kind": "lifecycle_stage", "Position": None})
    assert report.mapping == {"E-mail": "email", "Kind": "lifecycle_stage", "Position": None}
    zoe = contact(services, "zoe@acme.com")
    assert zoe.lifecycle_stage is LifecycleStage.customer and zoe.title is None


def test_full_name_column_is_split_into_first_and_last(services, admin):
    run_import(services, admin, "Email,Name\nann@acme.com,Ann van der Berg\nbo@acme.com,\"Lind, Bo\"\n")
    assert (contact(services, "ann@acme.com").first_name, contact(services, "ann@acme.com").last_name) == (
        "Ann", "van der Berg")
    assert (contact(services, "bo@acme.com").first_name, contact(services, "bo@acme.com").last_name) == (
        "Bo", "Lind")


# Bad rows ------------------------------------------------------------------------------------------------


BAD_FILE = (
    b"Email,First Name,Last Name,Lifecycle Stage,Notes\n"        # 1
    b"ana@acme.com,Ana,Alves,customer,\n"                        # 2 good
    b"bob@,Bob,Brown,,\n"                                        # 3 bad email
    b'carl@acme.com,"Carl"x,Clark,,\n'                           # 4 text after a closing quote
    b"dora@acme.com,Dora,Diaz,,,extra\n"                         # 5 six columns
    b"eve@acme.com,\xe9ve,Evans,,\n"                             # 6 cp1252 byte, not UTF-8
    b'fay@acme.com,Fay,Fox,,"first line\nsecond line"\n'        # 7-8 good, a note over two lines
    b"gus@acme.com,Gus,Gray,superstar,\n"                        # 9 unknown stage
    b",Hal,Hill,,\n"                                             # 10 no email
    b'ivy@acme.com,"Ivy,Irwin,,\n'                               # 11 quote never closed
    b"jon@acme.com,Jon,Jones,,\n"                                # 12 good
)


def test_good_rows_go_in_while_bad_rows_are_reported_with_their_physical_line(services, admin):
    report = run_import(services, admin, BAD_FILE)
    assert (report.rows, report.created, report.failed) == (10, 3, 7)
    got = reasons(report)
    assert got[3] == "invalid email 'bob@'"
    assert got[4].startswith("broken quoting")
    assert got[5] == "expected 5 columns, found 6"
    assert got[6] == "invalid UTF-8 at line 6; try --encoding cp1252"
    assert got[9] == "invalid lifecycle stage 'superstar'"
    assert got[10] == "missing email"
    assert got[11].startswith("broken quoting")
    assert [e.line for e in report.errors] == [3, 4, 5, 6, 9, 10, 11]
    assert contact(services, "fay@acme.com").notes == "first line\nsecond line"
    assert {c for c in ("ana@acme.com", "fay@acme.com", "jon@acme.com") if contact(services, c)} == {
        "ana@acme.com", "fay@acme.com", "jon@acme.com"}
    assert contact(services, "eve@acme.com") is None


def test_bad_rows_in_later_chunks_keep_their_line_numbers(services, admin, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    lines = [f"p{i}@acme.com,P{i},Q,," for i in range(2, 14)]
    lines[5] = "bad@,X,Y,,"                 # line 7
    lines[9] = 'k@acme.com,"K,L,,'          # line 11: quote never closed, swallows line 12
    report = run_import(services, admin, "Email,First Name,Last Name,Lifecycle Stage,Notes\n" + "\n".join(lines))
    assert reasons(report) == {7: "invalid email 'bad@'", 11: "broken quoting: a quoted value is never closed"}
    assert report.created == 10 and count(services, Contact) == 10


def test_other_encodings_are_read_when_named_or_marked(services, admin):
    cp1252 = "Email,First Name\nrene@acme.fr,René\n".encode("cp1252")
    assert run_import(services, admin, cp1252, encoding="cp1252").created == 1
    assert contact(services, "rene@acme.fr").first_name == "René"
    utf16 = "Email,First Name\nzoe@acme.fr,Zoé\n".encode("utf-16")  # with its byte-order mark
    assert run_import(services, admin, utf16).created == 1
    assert contact(services, "zoe@acme.fr").first_name == "Zoé"
    bom = "\ufeffEmail,First Name\nnoe@acme.fr,Noé\n".encode()
    assert run_import(services, admin, bom).mapping["Email"] == "email"


def test_a_value_too_long_for_its_column_fails_only_its_row(services, admin):
    report = run_import(services, admin, f"Email,Job Title\nok@acme.com,CEO\nlong@acme.com,{'x' * 201}\n")
    assert report.created == 1 and reasons(report) == {3: "title is longer than 200 characters"}


# Duplicates ----------------------------------------------------------------------------------------------


def test_update_mode_updates_existing_contacts_and_merges_duplicates_in_the_file(services, admin):
    run_import(services, admin, "Email,First Name,Job Title\nann@acme.com,Ann,CTO\n")
    report = run_import(services, admin, (
        "Email,First Name,Job Title,Phone\n"
        "ANN@acme.com,Anne,,\n"          # existing: first name changes, empty title keeps CTO
        "new@acme.com,New,Intern,\n"
        "new@acme.com,,Engineer,+1 555\n"  # later duplicate: merges into the new contact
    ), on_duplicate="update")
    assert (report.rows, report.created, report.updated, report.skipped) == (3, 1, 2, 0)
    ann = contact(services, "ann@acme.com")
    assert (ann.first_name, ann.title) == ("Anne", "CTO")
    new = contact(services, "new@acme.com")
    assert (new.first_name, new.title, new.phone) == ("New", "Engineer", "+1 555")
    assert count(services, Contact) == 2


def test_skip_mode_leaves_existing_contacts_and_later_duplicates_alone(services, admin):
    run_import(services, admin, "Email,First Name\nann@acme.com,Ann\n")
    report = run_import(services, admin, (
        "Email,First Name\nann@acme.com,Changed\nnew@acme.com,First\nnew@acme.com,Second\n"
    ), on_duplicate="skip")
    assert (report.rows, report.created, report.updated, report.skipped) == (3, 1, 0, 2)
    assert contact(services, "ann@acme.com").first_name == "Ann"
    assert contact(services, "new@acme.com").first_name == "First"


@pytest.mark.parametrize("mode", ["update", "skip"])
def test_duplicates_across_chunks_count_like_duplicates_within_one(services, admin, monkeypatch, mode):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    rows = ["a@acme.com,A1", "b@acme.com,B1", "c@acme.com,C1", "a@acme.com,A2", "b@acme.com,", "a@acme.com,A3"]
    report = run_import(services, admin, "Email,First Name\n" + "\n".join(rows) + "\n", on_duplicate=mode)
    assert report.created == 3 and report.rows == 6
    assert (report.updated, report.skipped) == ((3, 0) if mode == "update" else (0, 3))
    assert contact(services, "a@acme.com").first_name == ("A3" if mode == "update" else "A1")
    assert contact(services, "b@acme.com").first_name == "B1"
    assert count(services, Contact) == 3


def test_empty_cells_never_erase_existing_values(services, admin):
    run_import(services, admin, (
        "Email,First Name,Job Title,Phone,Technologies,Website\nann@acme.com,Ann,CTO,+1 555,Slack,acme.com\n"
    ))
    run_import(services, admin, "Email,First Name,Job Title,Phone,Technologies,Website\nann@acme.com,,,,,\n")
    ann = contact(services, "ann@acme.com")
    assert (ann.first_name, ann.title, ann.phone, ann.technologies) == ("Ann", "CTO", "+1 555", ["Slack"])
    assert ann.company.domain == "acme.com"


# Companies --------------------------------------------------------------------------------------------------


def test_companies_are_found_or_created_by_domain_and_free_mail_gets_none(services, admin):
    with services.uow() as uow:
        uow.session.add(Company(domain="acme.com", name="Acme Corporation"))
        uow.commit()
    report = run_import(services, admin, (
        "Email,Company,Website\n"
        "a@acme.com,Acme,\n"                          # existing company, found by the email's domain
        "b@gmail.com,Beta Labs,https://www.betalabs.io/team\n"  # website column wins over free mail
        "c@betalabs.io,,\n"                           # same new company, created once
        "d@gmail.com,,\n"                             # free mail, no website: no company
        "e@gamma.dev,,\n"                             # new company named after its domain
    ))
    assert report.companies_created == 2 and count(services, Company) == 3
    assert contact(services, "a@acme.com").company.name == "Acme Corporation"
    beta = contact(services, "b@gmail.com").company
    assert (beta.domain, beta.name) == ("betalabs.io", "Beta Labs")
    assert contact(services, "c@betalabs.io").company_id == beta.id
    assert contact(services, "d@gmail.com").company_id is None
    assert contact(services, "e@gamma.dev").company.name == "Gamma"


def test_enrichment_score_matches_the_service_calculation(services, admin):
    run_import(services, admin, (
        "Email,First Name,Last Name,Job Title,Phone,Technologies,Industry,Time Zone\n"
        "full@acme.com,Ann,Lee,CTO,+1 555,Slack,Software,Europe/Paris\n"
        "bare@gmail.com,,,,,,,\n"
        "half@beta.io,Bo,,Founder,,,,\n"
    ))
    for email in ("full@acme.com", "bare@gmail.com", "half@beta.io"):
        c = contact(services, email)
        assert c.enrichment_score == calculate_enrichment_score(c)
    assert contact(services, "full@acme.com").enrichment_score == 75  # all but LinkedIn and company size


# Formulas -----------------------------------------------------------------------------------------------------


def test_formula_values_are_kept_verbatim_and_escaped_on_export(services, admin):
    formula = '=HYPERLINK("http://evil.example","click")'
    out = io.StringIO()
    csv.writer(out).writerows([["Email", "First Name", "Job Title", "Phone"],
                               ["f@acme.com", formula, "@SUM(A1)", "+1 555"]])
    run_import(services, admin, out.getvalue())
    f = contact(services, "f@acme.com")
    assert (f.first_name, f.title, f.phone) == (formula, "@SUM(A1)", "+1 555")
    exported = rows_to_csv_bytes([{"email": f.email, "first_name": f.first_name, "title": f.title}],
                                 ["email", "first_name", "title"])
    row = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))[1]
    assert row == ["f@acme.com", "'" + formula, "'@SUM(A1)"]


# Refusals, permissions, progress, audit -----------------------------------------------------------------


def test_a_file_without_an_email_column_is_refused_and_changes_nothing(services, admin):
    with pytest.raises(ValidationFailed, match="no column is mapped to email"):
        run_import(services, admin, "Name,Company\nAnn Lee,Acme\n")
    with pytest.raises(ValidationFailed, match="no column is mapped to email"):
        run_import(services, admin, "Email,Name\na@acme.com,Ann\n", mapping={"Email": None, "Name": "full_name"})
    assert count(services, Contact) == 0 and count(services, AuditEntry) == 0


@pytest.mark.parametrize("data", [b"", b"\n\n", "\ufeff".encode()])
def test_an_empty_file_is_refused(services, admin, data):
    with pytest.raises(ValidationFailed, match="empty"):
        run_import(services, admin, data)


def test_a_viewer_may_not_import(services, viewer):
    with pytest.raises(PermissionDenied):
        run_import(services, viewer, "Email\na@acme.com\n")
    assert count(services, Contact) == 0


def test_a_rep_imports_contacts_they_own(services, rep):
    run_import(services, rep, "Email\na@acme.com\n", source="trade show list")
    a = contact(services, "a@acme.com")
    assert (a.owner_id, a.created_by_id, a.data_source) == (rep.user_id, rep.user_id, "trade show list")
    assert a.created_at.tzinfo is not None and a.lifecycle_stage is LifecycleStage.prospect


def test_progress_is_reported_until_the_total(services, admin):
    calls = []
    data = "Email\n" + "".join(f"p{i}@acme.com\n" for i in range(2500))
    import_contacts(services.uow(), actor=admin, data=data.encode(), on_progress=lambda d, t: calls.append((d, t)))
    assert len(calls) >= 3 and calls[-1] == (2500, 2500)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_the_whole_import_is_one_audit_row(services, admin):
    run_import(services, admin, "Email\na@acme.com\nb@acme.com\nbad\n", on_duplicate="skip", source="fair.csv")
    with services.uow() as uow:
        entries = uow.session.scalars(select(AuditEntry)).all()
        uow.session.expunge_all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.resource_type, entry.actor_id) == ("import", "contact", admin.user_id)
    assert entry.changes == {"rows": 3, "created": 2, "updated": 0, "skipped": 0, "failed": 1,
                             "companies_created": 1, "source": "fair.csv", "on_duplicate": "skip"}


# Failures while writing ---------------------------------------------------------------------------------------


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "contact-import-writer"]


def three_chunk_file() -> str:
    # 3,000 rows written 1,000 at a time; every row on its own company domain, created chunk by chunk.
    return "Email,First Name\n" + "".join(f"p{i}@firm{i}.com,P{i}\n" for i in range(3000))


def test_a_contact_added_by_someone_else_meanwhile_aborts_the_whole_import_as_a_conflict(
        services, admin, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 500)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 1000)
    threads_before = threading.active_count()

    def someone_else_adds_the_last_row(done: int, total: int) -> None:
        if done == 500:  # read, not yet written: the first chunk goes in at 1,000 rows
            with services.uow() as other:
                other.session.add(Contact(email="p2999@firm2999.com", first_name="Theirs"))
                other.commit()

    with pytest.raises(Conflict, match="nothing was imported"):
        import_contacts(services.uow(), actor=admin, data=three_chunk_file().encode(),
                        on_progress=someone_else_adds_the_last_row)
    # The first two chunks and their companies were written before the third one failed: all rolled back.
    assert count(services, Contact) == 1 and contact(services, "p2999@firm2999.com").first_name == "Theirs"
    assert count(services, Company) == 0 and count(services, AuditEntry) == 0
    assert threading.active_count() == threads_before and writer_threads() == []
    report = run_import(services, admin, three_chunk_file())  # run again, as the message says
    assert (report.created, report.updated) == (2999, 1)
    assert contact(services, "p2999@firm2999.com").first_name == "P2999"


def test_stopping_during_the_import_writes_nothing_and_leaves_no_thread(services, admin, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 500)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 1000)
    threads_before = threading.active_count()

    def ctrl_c_after_two_chunks(done: int, total: int) -> None:
        if done == 2500:  # two chunks handed to the database, the second one possibly still being written
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_contacts(services.uow(), actor=admin, data=three_chunk_file().encode(),
                        on_progress=ctrl_c_after_two_chunks)
    assert count(services, Contact) == 0 and count(services, Company) == 0 and count(services, AuditEntry) == 0
    assert threading.active_count() == threads_before and writer_threads() == []


def test_progress_is_reported_from_the_calling_thread_while_postgresql_writes_in_another(
        services, admin, monkeypatch, backend):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 500)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 1000)
    callers, writers = set(), []

    def progress(done: int, total: int) -> None:  # Streamlit's st.progress only works in the script thread
        callers.add(threading.current_thread())
        writers.append(len(writer_threads()))

    import_contacts(services.uow(), actor=admin, data=three_chunk_file().encode(), on_progress=progress)
    assert callers == {threading.current_thread()}
    assert max(writers) == (1 if backend == "postgresql" else 0)  # SQLite holds the GIL while it inserts
    assert count(services, Contact) == 3000 and writer_threads() == []


def test_addresses_longer_than_the_standard_allows_fail_their_row(services, admin):
    local, label = "l" * 64, "d" * 60
    domain = ".".join([label] * 4) + ".com"  # 64 + 1 + 248 = 313 characters in all
    report = run_import(services, admin, "Email\n" + "\n".join([
        f"{local}@acme.com", f"{local}x@acme.com", f"{local}@{domain}", f"{local}@{label}.{domain}"]) + "\n")
    assert report.created == 2
    assert {line: why[:16] for line, why in reasons(report).items()} == {3: "invalid email 'l", 5: "invalid email 'l"}


# Command line -----------------------------------------------------------------------------------------------


@pytest.fixture
def cli_data(tmp_path, monkeypatch):
    """An embedded SQLite setup migrated to head, as `sales-agent db upgrade` leaves it."""
    from core.migrations import upgrade

    for name in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    upgrade(load_settings(_env_file=None, data_dir=tmp_path / "data"))
    runtime.settings.cache_clear()
    runtime.services.cache_clear()
    yield tmp_path
    runtime.services.cache_clear()
    runtime.settings.cache_clear()


def cli(*args: str):
    return CliRunner().invoke(app, ["import", "contacts", *args], catch_exceptions=False)


def test_cli_prints_a_summary_and_the_first_errors(cli_data):
    path = cli_data / "people.csv"
    path.write_text("Email,First Name\n" + "".join(f"bad{i}@,B\n" for i in range(25)) + "ok@acme.com,Ok\n")
    result = cli(str(path))
    assert result.exit_code == 0
    assert "26 rows - 1 created, 0 updated, 0 skipped, 25 failed" in result.stdout
    assert "line 2: invalid email 'bad0@'" in result.stdout
    assert "line 21: invalid email 'bad19@'" in result.stdout and "line 22:" not in result.stdout
    assert "5 more" in result.stdout


def test_cli_json_lists_every_error_and_honours_options(cli_data):
    path = cli_data / "people.csv"
    path.write_text("Email,Position\n" + "".join(f"bad{i}@,X\n" for i in range(25)) + "ok@acme.com,CTO\n")
    result = cli(str(path), "--json", "--map", "Position=title", "--on-duplicate", "skip")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["created"] == 1 and len(report["errors"]) == 25
    assert report["errors"][0] == {"line": 2, "reason": "invalid email 'bad0@'", "email": "bad0@"}
    assert report["mapping"] == {"Email": "email", "Position": "title"}


def test_cli_reads_other_encodings(cli_data):
    path = cli_data / "people.csv"
    path.write_bytes("Email,First Name\nrene@acme.fr,René\n".encode("cp1252"))
    assert "line 2: invalid UTF-8 at line 2; try --encoding cp1252" in cli(str(path)).stdout
    assert "1 created" in cli(str(path), "--encoding", "cp1252").stdout


def test_cli_exits_1_when_the_file_is_refused(cli_data):
    path = cli_data / "people.csv"
    path.write_text("Name,Company\nAnn,Acme\n")
    result = CliRunner().invoke(app, ["import", "contacts", str(path)])
    assert result.exit_code == 1 and "no column is mapped to email" in result.output


def test_cli_exits_2_when_the_file_is_missing(cli_data):
    result = CliRunner().invoke(app, ["import", "contacts", str(cli_data / "nope.csv")])
    assert result.exit_code == 2 and "no such file" in result.output
