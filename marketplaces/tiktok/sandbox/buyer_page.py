# ruff: noqa: E501 -- an HTML/CSS/JS page kept as a Python string so that it ships with the package.
"""The buyer page: chat as a buyer, see the seller's replies and cards. Plain HTML, CSS and a
little JS polling, served by the sandbox itself (no CDN)."""

BUYER_PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox buyer chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#161823;background:#f4f5f7}
header{background:#161823;color:#fff;padding:10px 18px;display:flex;gap:14px;align-items:center}
header h1{font-size:16px;margin:0;font-weight:600}header label{font-size:13px}
select{font:inherit;padding:4px 6px;border-radius:5px;border:1px solid #c8ccd1;max-width:260px}
main{max-width:760px;margin:16px auto;background:#fff;border-radius:10px;box-shadow:0 1px 4px rgba(0,0,0,.08);
display:flex;flex-direction:column;height:calc(100vh - 90px)}
#thread{flex:1;overflow-y:auto;padding:16px}
.msg{max-width:70%;margin:6px 0;padding:8px 11px;border-radius:12px;background:#eef0f3;word-wrap:break-word}
.msg.mine{margin-left:auto;background:#fe2c55;color:#fff}.meta{font-size:11px;opacity:.7;margin-top:3px}
.system{text-align:center;color:#6b6f76;font-size:12px;margin:8px 0}
.card{display:flex;gap:10px;border:1px solid #dfe1e5;border-radius:8px;padding:8px;background:#fff;color:#161823}
.card img{width:56px;height:56px;border-radius:6px;object-fit:cover}.card b{display:block}
.cta{display:inline-block;margin-top:4px;font-size:12px;font-weight:600;color:#fe2c55}
.card-coupon{border-style:dashed;border-color:#fe2c55}
.pill{display:inline-block;font-size:11px;padding:1px 7px;border-radius:9px;background:#e8f0fe;color:#1a56db}
.msg img.photo{max-width:220px;border-radius:8px;display:block}
form{display:flex;gap:8px;padding:12px;border-top:1px solid #eceef1;align-items:center}
input[type=text]{flex:1;font:inherit;padding:8px 10px;border:1px solid #c8ccd1;border-radius:6px}
button{font:inherit;padding:7px 14px;border-radius:6px;border:1px solid #c8ccd1;background:#fff;cursor:pointer}
button.primary{background:#fe2c55;border-color:#fe2c55;color:#fff}
.empty{color:#6b6f76;text-align:center;margin-top:40px}
</style></head>
<body>
<header><h1>TikTok Shop sandbox · buyer</h1>
<label>Shop <select id="shop" aria-label="Shop"></select></label>
<label>Buyer <select id="buyer" aria-label="Buyer"></select></label></header>
<main>
<div id="thread" aria-live="polite"><p class="empty">Loading…</p></div>
<form id="composer">
<input type="text" id="text" placeholder="Write a message as the buyer" aria-label="Message" maxlength="2000">
<button class="primary" type="submit">Send</button>
<input type="file" id="image" accept="image/jpeg,image/png,image/gif,image/webp" hidden aria-label="Image file">
<button type="button" id="pick">📷 Image</button>
<select id="order" aria-label="Send an order card"><option value="">Send order card…</option></select>
<select id="product" aria-label="Send a product card"><option value="">Send product card…</option></select>
</form></main>
<script>
let shops = [], lastRender = "";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
async function api(path, options) { const r = await fetch(path, options); return r.json(); }
function shop() { return shops.find((s) => s.id === $("shop").value); }
function fillBuyers() {
  const s = shop(); if (!s) return;
  $("buyer").innerHTML = s.buyers.map((b) => `<option value="${esc(b.user_id)}">${esc(b.nickname)}${b.chatting ? " 💬" : ""}</option>`).join("");
  lastRender = ""; refresh();
}
function money(c) { return c.total ? `${esc(c.total)} ${esc(c.currency)}` : ""; }
function card(c) {
  const pic = c.image ? `<img src="${esc(c.image)}" alt="">` : "";
  const pill = c.status ? `<span class="pill">${esc(c.status)}</span> ` : "";
  let body;
  if (c.kind === "order") {
    body = `<b>Order ${esc(c.id)}</b>${esc(c.title)}${c.items > 1 ? ` +${c.items - 1} more` : ""}<br>${pill}${money(c)}`;
  } else if (c.kind === "logistics") {
    body = `<b>Shipping · order ${esc(c.id)}</b>${pill}${esc(c.carrier)} ${esc(c.tracking_number)}` +
      (c.package_id ? `<br>Package ${esc(c.package_id)}` : "") + `<br><i>${esc(c.latest)}</i>`;
  } else if (c.kind === "return_refund") {
    body = `<b>${esc(c.title)}</b>${esc(c.sku_name)}<br>Order ${esc(c.id)}<br><span class="cta">${esc(c.action)}</span>`;
  } else if (c.kind === "coupon") {
    body = `<b>${esc(c.title)}</b>${esc(c.offer)}<br>${pill}<span class="cta">${esc(c.action)}</span>`;
  } else {
    body = `<b>${esc(c.title)}</b>${pill}${money(c)}`;
  }
  return `<div class="card card-${esc(c.kind)}" data-card="${esc(c.kind)}">${pic}<div>${body}</div></div>`;
}
function render(message) {
  const role = message.sender.role, mine = role === "BUYER";
  if (!message.is_visible) return "";
  let content = {}; try { content = JSON.parse(message.content); } catch (e) {}
  if (["SYSTEM", "NOTIFICATION", "ALLOCATED_SERVICE"].includes(role) || message.type === "NOTIFICATION" || message.type === "ALLOCATED_SERVICE")
    return `<p class="system">${esc(content.content || message.type)}</p>`;
  let inner;
  if (message.card) {
    inner = card(message.card);
  } else if (message.type === "IMAGE" || message.type === "EMOTICONS") {
    inner = `<img class="photo" src="${esc(content.url)}" alt="image">`;
  } else if (message.type === "TEXT") {
    inner = esc(content.content);
  } else {
    inner = `<i>[${esc(message.type)}]</i>`;
  }
  const when = new Date(message.create_time * 1000).toLocaleString();
  return `<div class="msg ${mine ? "mine" : ""}" data-id="${esc(message.id)}">${inner}<div class="meta">${esc(message.sender.nickname)} · ${esc(when)}</div></div>`;
}
async function refresh() {
  const s = shop(), user = $("buyer").value; if (!s || !user) return;
  const data = await api(`/buyer/api/thread?shop_id=${encodeURIComponent(s.id)}&user_id=${encodeURIComponent(user)}`);
  const html = data.messages.length ? data.messages.map(render).join("") : '<p class="empty">No messages yet — say hello to the seller.</p>';
  if (html !== lastRender) {
    lastRender = html; const box = $("thread"); box.innerHTML = html; box.scrollTop = box.scrollHeight;
  }
  const current = $("order").value;
  $("order").innerHTML = '<option value="">Send order card…</option>' + data.orders.map((o) => `<option value="${esc(o.id)}">${esc(o.id)} · ${esc(o.status)}</option>`).join("");
  $("order").value = current;
  $("product").innerHTML = '<option value="">Send product card…</option>' + (data.products || []).map((p) => `<option value="${esc(p.id)}">${esc(p.title)}</option>`).join("");
}
async function send(payload) {
  const s = shop();
  await api("/buyer/api/send", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(Object.assign({shop_id: s.id, user_id: $("buyer").value}, payload))});
  lastRender = ""; await refresh();
}
$("composer").addEventListener("submit", async (event) => {
  event.preventDefault(); const text = $("text").value.trim(); if (!text) return;
  $("text").value = ""; await send({type: "TEXT", text});
});
$("order").addEventListener("change", async () => { if ($("order").value) await send({type: "ORDER_CARD", order_id: $("order").value}); });
$("product").addEventListener("change", async () => { if ($("product").value) await send({type: "PRODUCT_CARD", product_id: $("product").value}); });
$("pick").addEventListener("click", () => $("image").click());
$("image").addEventListener("change", async () => {
  const file = $("image").files[0]; if (!file) return;
  const form = new FormData(); form.append("data", file);
  const uploaded = await api("/buyer/api/upload", {method: "POST", body: form});
  if (uploaded.url) await send({type: "IMAGE", url: uploaded.url, width: uploaded.width, height: uploaded.height});
  $("image").value = "";
});
$("shop").addEventListener("change", fillBuyers);
$("buyer").addEventListener("change", () => { lastRender = ""; refresh(); });
(async () => {
  shops = (await api("/buyer/api/shops")).shops;
  $("shop").innerHTML = shops.map((s) => `<option value="${esc(s.id)}">${esc(s.name)} (${esc(s.region)})</option>`).join("");
  fillBuyers();
  setInterval(refresh, 2000);
})();
</script>
</body></html>
"""
