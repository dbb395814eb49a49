"""A small MCP server for tests, run over stdio: `python -m tests.tools.mcp_inventory_server`
(or with `http PORT` for streamable HTTP). It answers from data it holds, so results are
checkable."""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

STOCK = {"LAMP-01": 14, "DESK-02": 0, "CHAIR-03": 112}
server = MCPServer("inventory")


@server.tool()
def stock_level(sku: str) -> dict:
    """How many units of a product (by SKU) are in the warehouse."""
    if sku not in STOCK:
        raise ToolError(f"Unknown SKU {sku}.")
    return {"sku": sku, "units": STOCK[sku], "warehouse": os.environ.get("WAREHOUSE", "unset")}


@server.tool()
def reorder_list(threshold: int = 10) -> list[str]:
    """SKUs whose stock is below the threshold."""
    return sorted(sku for sku, units in STOCK.items() if units < threshold)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
