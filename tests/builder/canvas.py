"""What a person does on the builder's canvas, as small helpers the browser tests share."""

from typing import Any

from playwright.sync_api import Page, expect

MOD = "Control"


def open_builder(page: Page, team_id: int) -> None:
    page.goto(f"/teams/{team_id}/builder/")
    expect(page.locator(".react-flow__pane")).to_be_visible()
    wait_until_still(page)


def wait_until_still(page: Page) -> None:
    """Until the canvas stops moving (fitting the view animates it for a moment)."""
    page.wait_for_function(
        """() => new Promise((done) => {
            const at = () => document.querySelector('.react-flow__viewport')?.style.transform;
            const first = at();
            setTimeout(() => done(first !== undefined && first === at()), 150);
        })""",
        polling=50,
    )


def node(page: Page, node_id: str) -> Any:
    return page.get_by_test_id(f"node-{node_id}")


def drop_from_palette(page: Page, item: str, x: float, y: float) -> None:
    """Drag a palette item onto the canvas with real mouse events, to (x, y) in the pane."""
    page.get_by_test_id(f"palette-{item}").drag_to(
        page.locator(".react-flow__pane"), target_position={"x": x, "y": y}
    )


def connect(page: Page, source: str, target: str) -> None:
    """Draw an edge from the source handle of one node to the target handle of another."""
    start = page.locator(f'.react-flow__node[data-id="{source}"] .react-flow__handle.source')
    end = page.locator(f'.react-flow__node[data-id="{target}"] .react-flow__handle.target')
    a, b = start.bounding_box(), end.bounding_box()
    assert a and b
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def press(page: Page, keys: str) -> None:
    """A shortcut on the canvas: out of any text field first, where the browser's keys win."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press(keys)


def save(page: Page) -> None:
    page.get_by_role("button", name="Save a new version (Ctrl+S)").click()
    expect(page.get_by_test_id("status")).to_contain_text("Saved version")
