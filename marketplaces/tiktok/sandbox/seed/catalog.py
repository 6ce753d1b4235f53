"""Fixed seed material: sellers and shops, products, names, addresses, chat scripts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marketplaces.tiktok.sandbox.model import BASE_MARKER

SELLERS = (
    # (seller_name, base_region, market, shops: (name, region, seller_type, currency, weight))
    ("Sunrise Outfitters LLC", "US", "US", (("Sunrise Outfitters", "US", "LOCAL", "USD", 1.0),)),
    (
        "Maomao Beauty Co.",
        "CN",
        "ROW",
        (
            ("Maomao Beauty UK", "GB", "CROSS_BORDER", "GBP", 1.0),
            ("Maomao Beauté FR", "FR", "CROSS_BORDER", "EUR", 0.25),
        ),
    ),
)

PRODUCTS = (
    ("Short Boat Invisible Socks", ("White", "Black", "Grey"), Decimal("9.99")),
    ("Women's Winter Crochet Cardigan", ("S", "M", "L"), Decimal("34.50")),
    ("Hydrating Rose Face Serum 30ml", ("30ml",), Decimal("18.00")),
    ("Silk Sleep Mask", ("Pink", "Navy"), Decimal("12.99")),
    ("Bamboo Hair Brush", ("Standard",), Decimal("14.25")),
    ("Vitamin C Sheet Masks (5 pack)", ("5 pack",), Decimal("11.40")),
    ("Wireless Earbuds Pro", ("Black", "White"), Decimal("49.90")),
    ("Stainless Steel Water Bottle 750ml", ("Silver", "Sage", "Coral"), Decimal("21.00")),
    ("Matte Liquid Lipstick", ("Ruby", "Nude", "Berry"), Decimal("8.75")),
    ("Yoga Mat Non-Slip 6mm", ("Purple", "Teal"), Decimal("29.99")),
    ("Scented Soy Candle", ("Vanilla", "Lavender"), Decimal("16.50")),
    ("Phone Case Clear MagSafe", ("iPhone 15", "iPhone 16"), Decimal("19.95")),
)

FIRST_NAMES = (
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Mia",
    "Lucas",
    "Amelia",
    "Ethan",
    "Isla",
    "James",
    "Sophia",
    "Harper",
    "Leo",
    "Chloe",
    "Jack",
    "Grace",
    "Oscar",
    "Ruby",
    "Max",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Martin",
    "Thomas",
    "Walker",
    "Moore",
    "Clark",
    "Lewis",
    "Hall",
    "Young",
    "King",
)
ADDRESSES = {
    "US": (
        ("1199 Coleman Ave", "San Jose", "CA", "California", "95110", "(+1)213-***-1234"),
        ("350 5th Ave", "New York", "NY", "New York", "10118", "(+1)646-***-8812"),
        ("600 Congress Ave", "Austin", "TX", "Texas", "78701", "(+1)512-***-4471"),
    ),
    "GB": (
        ("10 Downing Street", "London", "", "Greater London", "SW1A 2AA", "(+44)7700-***-123"),
        ("1 Deansgate", "Manchester", "", "Greater Manchester", "M3 1AZ", "(+44)7700-***-456"),
        ("5 Preston Road", "Ribbleton", "", "Lancashire", "PR2 6PS", "(+44)7700-***-789"),
    ),
    "FR": (
        ("8 Rue de Rivoli", "Paris", "", "Île-de-France", "75004", "(+33)6-**-**-12-34"),
        ("2 Quai Saint-Antoine", "Lyon", "", "Auvergne-Rhône-Alpes", "69002", "(+33)6-**-**-56-78"),
    ),
}
COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "FR": "France"}
TAX_RATES = {"USD": Decimal("0.0825"), "GBP": Decimal("0"), "EUR": Decimal("0")}
SHIPPING = {"USD": Decimal("5.99"), "GBP": Decimal("3.49"), "EUR": Decimal("4.90")}
COLORS = (
    (231, 76, 60),
    (52, 152, 219),
    (46, 204, 113),
    (155, 89, 182),
    (241, 196, 15),
    (230, 126, 34),
    (26, 188, 156),
    (52, 73, 94),
)


# Which of a buyer's orders each script (by position, as in conversation_script) can be about, so
# the demo never asks "when will it ship?" about a completed order. None: any order.
NOT_SHIPPED = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
)
ON_ITS_WAY = ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT")
ARRIVED = ("DELIVERED", "COMPLETED")
CANCELLABLE = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT")
SCRIPT_ORDER_STATUSES: tuple[tuple[str, ...] | None, ...] = (
    ON_ITS_WAY,  # "Where is my order?"
    None,  # another colour of a product
    ARRIVED,  # "The item arrived damaged"
    None,  # a video
    CANCELLABLE,  # "Can I still cancel order …?"
    ARRIVED,  # "I want to return my item"
)


def script_order_statuses(position: int) -> tuple[str, ...] | None:
    """The order statuses the script at `position` fits (the default script asks when it ships)."""
    if position < len(SCRIPT_ORDER_STATUSES):
        return SCRIPT_ORDER_STATUSES[position]
    return NOT_SHIPPED


def conversation_script(
    position: int, order_id: str, product_id: str, other_product_id: str, photo: dict[str, Any]
) -> list[tuple[str, str, dict[str, Any], bool]]:
    """Message scripts: (role, type, content before stringifying, is_visible)."""
    image = {"height": str(photo["height"]), "url": photo["url"], "width": str(photo["width"])}
    video = {
        "url": f"{BASE_MARKER}/_sandbox/videos/demo.mp4",
        "cover": photo["url"],
        "width": "720",
        "height": "1280",
        "duration": "12.5",
        "vid": "v10394g5000cd499vc7og65mqn3r3dg0",
        "expire_time": "1999999999",
        "format": "mp4",
        "size": "1048576",
        "bit_rate": "800000",
        "quality": "normal",
        "codec_type": "h264",
    }
    scripts = [
        [
            ("BUYER", "BUYER_ENTER_FROM_ORDER", {"order_id": order_id}, True),
            ("BUYER", "TEXT", {"content": f"Where is my order? The order id is {order_id}"}, True),
            (
                "SYSTEM",
                "ALLOCATED_SERVICE",
                {"content": "Customer service agent joined the chat"},
                True,
            ),
            ("SHOP", "TEXT", {"content": "Hi! Let me check that for you right away."}, True),
            ("BUYER", "TEXT", {"content": "Thanks, it's been a while."}, True),
        ],
        [
            ("BUYER", "BUYER_ENTER_FROM_PRODUCT", {"product_id": other_product_id}, True),
            ("BUYER", "PRODUCT_CARD", {"product_id": other_product_id}, True),
            ("BUYER", "TEXT", {"content": "Is this available in another colour?"}, True),
        ],
        [
            ("BUYER", "IMAGE", image, True),
            ("BUYER", "TEXT", {"content": "The item arrived damaged, see the photo."}, True),
            ("BUYER", "ORDER_CARD", {"order_id": order_id}, True),
        ],
        [
            ("BUYER", "VIDEO", video, True),
            ("BUYER", "EMOTICONS", {"url": image["url"], "width": "64", "height": "64"}, True),
            ("BUYER", "OTHER", {"content": "[Unsupported message]"}, True),
            ("BUYER", "TEXT", {"content": "Did you see my video?"}, True),
        ],
        [
            ("BUYER", "TEXT", {"content": "Hello?"}, True),
            (
                "ROBOT",
                "TEXT",
                {"content": "Thanks for your message! We reply within 24 hours."},
                True,
            ),
            ("SYSTEM", "NOTIFICATION", {"content": "Please rate this conversation"}, False),
            ("BUYER", "TEXT", {"content": f"Can I still cancel order {order_id}?"}, True),
        ],
        [
            (
                "BUYER",
                "BUYER_ENTER_FROM_TRANSFER",
                {"content": "Transferred from another agent"},
                True,
            ),
            ("BUYER", "TEXT", {"content": "I want to return my item, how do I do that?"}, True),
            (
                "SHOP",
                "TEXT",
                {"content": "Sorry to hear that! You can start a return from the order page."},
                True,
            ),
            ("SYSTEM", "NOTIFICATION", {"content": "The buyer has started a return request"}, True),
        ],
    ]
    if position < len(scripts):
        return scripts[position]
    return [
        ("BUYER", "TEXT", {"content": f"Hi, question about product {product_id}"}, True),
        ("BUYER", "TEXT", {"content": f"My order {order_id} — when will it ship?"}, True),
    ]
