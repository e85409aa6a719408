"""AccountAnalyzer: cited facts, the 24-hour cache and its invalidation, SSRF-safe website fetches."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.ai.research import AccountAnalyzer
from core.ai.webfetch import UnsafeAddress, check_url, fetch_public_page
from core.crm import service as contacts
from core.crm.schemas import ContactUpdate
from core.services import build_services
from tests import factories

PAGE = (b"<html><head><title>Acme Logistics</title><meta name='description' content='Same-day freight across "
        b"the Midwest.'></head><body><p>We're hiring drivers. Orders flow from Salesforce.</p></body></html>")


class _Site(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/redirect-to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        body = PAGE if self.path != "/huge" else b"x" * 50_000
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_insights_cite_the_database_fields_they_come_from(services, rep):
    factories.company(services, rep, domain="acmelogistics.com", name="Acme Logistics", industry="Logistics",
                      employee_count=1800)
    factories.contact(services, rep, email="ops@acmelogistics.com", technologies=["SAP"])
    analysis = AccountAnalyzer(services, rep).analyze_company("acmelogistics.com")
    assert analysis.industry == "Logistics" and analysis.size_range == "1001-5000"
    assert analysis.tech_stack == ["SAP"] and "carrier costs" in analysis.pain_points
    sources = {i.source for i in analysis.insights}
    assert {"companies.industry", "companies.employee_count", "contacts.technologies"} <= sources
    assert analysis.recommended_angle and analysis.opportunities


def test_analysis_is_cached_until_a_contact_changes(services, rep):
    factories.company(services, rep, domain="acmelogistics.com", name="Acme Logistics", industry="Logistics")
    person = factories.contact(services, rep, email="ops@acmelogistics.com")
    analyzer = AccountAnalyzer(services, rep)
    assert not analyzer.analyze_company("acmelogistics.com").cached
    assert analyzer.analyze_company("acmelogistics.com").cached
    contacts.update_contact(services.uow(), actor=rep, contact_id=person.id,
                            changes=ContactUpdate(technologies=["Oracle"]))
    fresh = analyzer.analyze_company("acmelogistics.com")
    assert not fresh.cached and fresh.tech_stack == ["Oracle"]


def test_cache_expires_after_24_hours(services, rep):
    factories.company(services, rep, domain="acmelogistics.com", name="Acme Logistics")
    AccountAnalyzer(services, rep).analyze_company("acmelogistics.com")
    later = build_services(services.settings, engine=services.engine)
    later.clock = lambda: services.clock() + timedelta(hours=25)
    assert not AccountAnalyzer(later, rep).analyze_company("acmelogistics.com").cached


def test_website_facts_cite_the_url_when_the_test_allowlist_permits_loopback(settings, rep, site):
    allowed = build_services(settings.model_copy(update={"research_test_allow_hosts": ["127.0.0.1"]}))
    factories.company(allowed, rep, domain="acmelogistics.com", name="Acme Logistics", website=site + "/")
    analysis = AccountAnalyzer(allowed, rep, fetch_website=True).analyze_company("acmelogistics.com")
    web = [i for i in analysis.insights if i.source == site + "/"]
    assert any("Same-day freight" in i.text for i in web) and any("hiring" in i.text for i in web)
    assert "Salesforce" in analysis.tech_stack
    allowed.dispose()


def test_loopback_website_is_refused_by_default(services, rep, site):
    factories.company(services, rep, domain="acmelogistics.com", name="Acme Logistics", website=site + "/")
    analysis = AccountAnalyzer(services, rep, fetch_website=True).analyze_company("acmelogistics.com")
    assert "non-public address 127.0.0.1" in analysis.website_error


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://[::1]/",
                                 "http://192.168.0.10/", "file:///etc/passwd", "http://localhost/"])
def test_private_link_local_and_metadata_addresses_are_refused(url):
    with pytest.raises(UnsafeAddress):
        check_url(url)


def test_every_redirect_is_checked_again(site):
    with pytest.raises(UnsafeAddress, match=r"169\.254\.169\.254"):
        fetch_public_page(site + "/redirect-to-metadata", allow_hosts=["127.0.0.1"])


def test_pages_over_the_size_cap_are_refused(site):
    with pytest.raises(Exception, match="larger than"):
        fetch_public_page(site + "/huge", max_bytes=10_000, allow_hosts=["127.0.0.1"])
