"""The demo page loads and shows data that came from the backend."""

from playwright.sync_api import Page, expect


def test_shop_shows_the_catalog_from_the_backend(page: Page, system, screenshot):
    page.goto(system.url + "/")
    expect(page.get_by_role("heading", name="Jeju green tea, 100 g")).to_be_visible()
    expect(page.get_by_text("15,000원").first).to_be_visible()
    expect(page.get_by_text("$12.50").first).to_be_visible()
    screenshot()
