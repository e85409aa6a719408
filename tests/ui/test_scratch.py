import pytest
@pytest.mark.parametrize("page", ["Home.py", "pages/Contacts.py", "pages/Companies.py", "pages/Campaigns.py", "pages/Templates.py", "pages/Tasks.py"])
def test_opens(demo_services, open_page, page):
    at = open_page(page)
    print(page, [e.value for e in at.error], [w.value for w in at.warning])
    assert not at.exception
