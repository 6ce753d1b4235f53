"""The buyer page: chat as a buyer, see the seller's replies and cards (buyer.html: plain HTML,
CSS and a little JS, no CDN)."""

from pathlib import Path

BUYER_PAGE = Path(__file__).with_name("buyer.html").read_text(encoding="utf-8")
