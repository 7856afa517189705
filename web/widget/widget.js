/*
 * linedesk website widget: online chat, feedback form and call-back request for a site's pages.
 *
 * Embed (the console's "generate script" gives it):
 *   <script src="https://desk.example.com/widget.js" data-site="12" data-lang="ru" async></script>
 * Optional attributes: data-name, data-email, data-phone (a known visitor), data-user-id with
 * data-user-hash (hex HMAC-SHA256 of the user id with the site's secret, computed by the site's
 * server: the user's history follows them). window.LinedeskWidget.open() / .close() open the
 * widget from the site's own button.
 *
 * No dependencies; everything lives in a shadow root so the page's styles and the widget's never
 * meet. Visitor text is only ever set as text, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.LinedeskWidget) return;
  var ds = script.dataset;
  var site = ds.site;
  var base = new URL(script.src, location.href).origin;
  var api = base + "/widget/v1/sites/" + encodeURIComponent(site);
  // A token per site and per signed-in user: another user of the same browser (or the visitor
  // before signing in) never gets this one's chats.
  var tokenKey = "linedesk.widget." + site + ".token." + (ds.userId || "");

  var T = {
    ru: {
      chat: "Чат", form: "Оставить заявку", callback: "Обратный звонок", send: "Отправить", placeholder: "Напишите сообщение…",
      name: "Имя", email: "Эл. почта", phone: "Телефон", when: "Удобное время", text: "Сообщение", start: "Начать чат",
      offline: "Сейчас нет операторов в сети. Оставьте заявку — мы ответим.", sent: "Заявка отправлена. Мы свяжемся с вами.",
      typing: " печатает…", attach: "Прикрепить файл", open: "Открыть чат", close: "Закрыть", retry: "Не отправлено — нажмите, чтобы повторить",
      required: "Заполните поле", staff: "Оператор", you: "Вы", welcome: "Здравствуйте! Чем можем помочь?", failed: "Не удалось отправить",
      sampleQ: "Есть ли кольцо 17 размера?", sampleA: "Да, есть. Отложить для вас?",
      help: "Помощь", helpSearch: "Поиск по статьям", helpNone: "Статей не нашлось"
    },
    en: {
      chat: "Chat", form: "Leave a request", callback: "Call me back", send: "Send", placeholder: "Type a message…",
      name: "Name", email: "Email", phone: "Phone", when: "Convenient time", text: "Message", start: "Start chat",
      offline: "No operator is online now. Leave a request and we will answer.", sent: "Request sent. We will get back to you.",
      typing: " is typing…", attach: "Attach a file", open: "Open chat", close: "Close", retry: "Not sent — click to retry",
      required: "Fill in this field", staff: "Operator", you: "You", welcome: "Hello! How can we help?", failed: "Could not send",
      sampleQ: "Is the size 17 ring in stock?", sampleA: "Yes, we have it. Shall I reserve one?",
      help: "Help", helpSearch: "Search help articles", helpNone: "No article found"
    }
  };

  var cfg, t, token = null, visitor = null, root, els = {}, open = false, shown = {}, stream = null;
  var typingTimer = 0, lastTyping = 0, pingTimer = 0, tab = "chat", preview = false;
  // The knowledge base's public articles: a Help tab when there are any.
  var articles = null;

  function store(k, v) {
    try { if (v === undefined) return localStorage.getItem(k); if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch (e) { return null; }
  }

  function call(method, path, body, isForm) {
    var h = {};
    if (token) h.Authorization = "Bearer " + token;
    if (body && !isForm) h["Content-Type"] = "application/json";
    return fetch(api + path, { method: method, headers: h, body: isForm ? body : body ? JSON.stringify(body) : undefined, mode: "cors", credentials: "omit" })
      .then(function (r) {
        if (r.status === 401 && token) { token = null; store(tokenKey, null); }
        return r.text().then(function (x) {
          var data = null;
          try { data = x ? JSON.parse(x) : null; } catch (e) { data = null; }
          if (!r.ok) { var err = new Error((data && data.error && data.error.message) || r.statusText); err.status = r.status; err.code = data && data.error && data.error.code; throw err; }
          return data;
        });
      });
  }

  function page() { return { page_url: location.href.slice(0, 2000), page_title: (document.title || "").slice(0, 500), referrer: (document.referrer || "").slice(0, 2000) }; }

  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // ensureVisitor gets a visitor token once per browser (kept in localStorage) or checks the
  // one kept still works.
  function ensureVisitor() {
    token = token || store(tokenKey);
    if (token) {
      return call("GET", "/visitor").then(function (r) { visitor = r.visitor; return visitor; }, function (e) {
        if (e.status === 401) return ensureVisitor();
        throw e;
      });
    }
    var b = page();
    b.name = ds.name || ""; b.email = ds.email || ""; b.phone = ds.phone || ""; b.language = ds.lang || "";
    if (ds.userId) { b.user_id = ds.userId; b.user_hash = ds.userHash || ""; }
    return call("POST", "/visitors", b).then(function (r) { token = r.token; store(tokenKey, token); visitor = r.visitor; return visitor; });
  }

  function ping() {
    if (!token || document.hidden) return;
    call("POST", "/pings", page()).then(function (route) { cfg.route = route; if (!open) return; render(); }, function () {});
  }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function css() {
    var a = cfg.appearance, side = a.position === "left" ? "left" : "right";
    return ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:14px}" +
      ".launch{position:fixed;bottom:20px;" + side + ":20px;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;background:" + a.visitor_background + ";color:" + a.visitor_text + ";box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;display:flex;align-items:center;justify-content:center}" +
      ".launch img{width:32px;height:32px}.launch svg{width:28px;height:28px;fill:currentColor}" +
      ".panel{position:fixed;bottom:88px;" + side + ":20px;width:360px;max-width:calc(100vw - 40px);height:520px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;color:#1f2933}" +
      ".head{display:flex;align-items:center;gap:8px;padding:10px 12px;background:" + a.visitor_background + ";color:" + a.visitor_text + "}.head img{height:28px;max-width:90px;object-fit:contain;background:#fff;border-radius:4px}" +
      ".head b{flex:1;font-size:15px}.head button{background:none;border:0;color:inherit;cursor:pointer;font-size:20px;line-height:1}" +
      ".tabs{display:flex;border-bottom:1px solid #e5e7eb}.tabs button{flex:1;padding:8px;border:0;background:#f8fafc;cursor:pointer}.tabs button[aria-selected=true]{background:#fff;font-weight:600;border-bottom:2px solid " + a.visitor_background + "}" +
      ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}" +
      ".m{max-width:80%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}.m.in{align-self:flex-end;background:" + a.visitor_background + ";color:" + a.visitor_text + "}" +
      ".m.out{align-self:flex-start;background:" + a.operator_background + ";color:" + a.operator_text + "}.m .who{display:flex;align-items:center;gap:6px;font-size:12px;opacity:.75;margin-bottom:2px}.m .who img{width:20px;height:20px;border-radius:50%}" +
      ".m a{color:inherit}.m.pending{opacity:.6}.m.failed{outline:1px solid #dc2626;cursor:pointer}.btns{display:flex;gap:6px;margin-top:6px;flex-wrap:wrap}.btns button{border:1px solid currentColor;background:transparent;color:inherit;border-radius:14px;padding:4px 10px;cursor:pointer}.btns button:disabled{cursor:default;opacity:.55}.btns button[aria-pressed=true]{opacity:1;font-weight:600;background:rgba(0,0,0,.08)}" +
      ".typing{padding:0 12px 6px;font-size:12px;color:#6b7280;min-height:18px}.note{padding:12px;color:#374151}" +
      ".compose{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb;align-items:flex-end}.compose textarea{flex:1;resize:none;height:40px;max-height:120px;padding:8px;border:1px solid #d1d5db;border-radius:8px}" +
      ".compose button,.form button[type=submit]{background:" + a.visitor_background + ";color:" + a.visitor_text + ";border:0;border-radius:8px;padding:9px 12px;cursor:pointer}.compose .clip{background:#f3f4f6;color:#374151}" +
      ".form{display:flex;flex-direction:column;gap:8px;padding:12px;overflow-y:auto}.form label{display:flex;flex-direction:column;gap:3px;font-size:12px;color:#4b5563}.form input,.form textarea{padding:8px;border:1px solid #d1d5db;border-radius:8px}.form textarea{min-height:90px}" +
      ".help{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:10px}.help a{color:" + a.visitor_background + ";font-weight:600}.help div{font-size:12px;color:#4b5563}" +
      ".err{color:#dc2626;font-size:12px}.body{flex:1;display:flex;flex-direction:column;min-height:0}";
  }

  function icon() {
    var a = cfg.appearance;
    if (a.launcher_icon_url) return el("img", { src: abs(a.launcher_icon_url), alt: "" });
    return svg("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z");
  }

  function svg(d, stroke) {
    var ns = "http://www.w3.org/2000/svg", s = document.createElementNS(ns, "svg"), p = document.createElementNS(ns, "path");
    s.setAttribute("viewBox", "0 0 24 24"); s.setAttribute("width", "18"); s.setAttribute("height", "18");
    p.setAttribute("d", d);
    if (stroke) { p.setAttribute("fill", "none"); p.setAttribute("stroke", "currentColor"); p.setAttribute("stroke-width", "2"); p.setAttribute("stroke-linecap", "round"); }
    s.appendChild(p);
    return s;
  }

  function abs(u) { return /^https:\/\//.test(u) ? u : /^\/[^/]/.test(u) ? base + u : ""; }

  // style gives the shadow root its sheet: a constructed one where the browser has them (a
  // page's Content-Security-Policy without 'unsafe-inline' allows it), a <style> element else.
  function style(r, extra) {
    var text = css() + (extra || "");
    if (r.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      r.adoptedStyleSheets = [sheet];
    } else {
      r.appendChild(el("style", { text: text }));
    }
  }

  function mount() {
    var host = el("div", { id: "linedesk-widget" });
    document.body.appendChild(host);
    root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    style(root);
    launcher();
  }

  function launcher() {
    if (!cfg.appearance.hide_launcher) {
      els.launch = el("button", { class: "launch", type: "button", "aria-label": t.open, title: t.open, onclick: function () { toggle(!open); } }, [icon()]);
      root.appendChild(els.launch);
    }
  }

  function toggle(on) {
    open = on;
    if (!on) { if (els.panel) els.panel.style.display = "none"; return; }
    if (!els.panel) build();
    els.panel.style.display = "flex";
    if (preview) return;
    ensureVisitor().then(function () { render(); connect(); }, function (e) { showNote(t.failed + ": " + e.message); });
    if (articles === null) call("GET", "/articles").then(function (r) { articles = r.items || []; if (articles.length && open) render(); }, function () {});
  }

  function build() {
    var head = el("div", { class: "head" }, [
      cfg.site.logo_url && abs(cfg.site.logo_url) ? el("img", { src: abs(cfg.site.logo_url), alt: "" }) : null,
      el("b", { text: cfg.site.name }),
      el("button", { type: "button", "aria-label": t.close, title: t.close, text: "×", onclick: function () { toggle(false); } })
    ]);
    els.tabs = el("div", { class: "tabs", role: "tablist" });
    els.body = el("div", { class: "body" });
    els.panel = el("div", { class: "panel", role: "dialog", "aria-label": cfg.site.name }, [head, els.tabs, els.body]);
    root.appendChild(els.panel);
  }

  function kinds() { return cfg.widgets.map(function (w) { return w.kind; }).concat(articles && articles.length ? ["help"] : []); }
  function title(kind) { for (var i = 0; i < cfg.widgets.length; i++) if (cfg.widgets[i].kind === kind && cfg.widgets[i].title) return cfg.widgets[i].title; return t[kind]; }

  // render draws the tab chosen; with nobody online the chat gives way to the request form
  // when the page's scenario says so.
  function render() {
    var ks = kinds();
    var chatOff = ks.indexOf("chat") >= 0 && !cfg.route.online && cfg.route.offer_form && ks.indexOf("form") >= 0;
    var avail = ks.filter(function (k) { return !(k === "chat" && chatOff); });
    if (avail.indexOf(tab) < 0) tab = avail[0] || "form";
    els.tabs.textContent = "";
    if (avail.length > 1) avail.forEach(function (k) {
      els.tabs.appendChild(el("button", { type: "button", role: "tab", "aria-selected": String(k === tab), "data-kind": k, text: title(k), onclick: function () { tab = k; render(); } }));
    });
    if (els.shownTab === tab && (tab === "chat" || tab === "help")) return;
    els.shownTab = tab;
    els.body.textContent = "";
    if (tab === "chat") chatView(); else if (tab === "help") helpView(); else formView(tab, chatOff);
  }

  // helpView searches the public articles; each opens on the desk's own page.
  function helpView() {
    var list = el("ul", { class: "help" });
    var q = el("input", { type: "search", placeholder: t.helpSearch, "aria-label": t.helpSearch });
    var f = el("form", { class: "form" }, [q, list]);
    function show(items) {
      list.textContent = "";
      if (!items.length) list.appendChild(el("li", { text: t.helpNone }));
      items.forEach(function (a) {
        if (a.url.indexOf(base + "/kb/") !== 0) return;
        list.appendChild(el("li", {}, [el("a", { href: a.url, target: "_blank", rel: "noopener", text: a.title }),
          el("div", { text: (a.snippet || []).map(function (p) { return p.text; }).join("") })]));
      });
    }
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      call("GET", "/articles?q=" + encodeURIComponent(q.value.trim())).then(function (r) { show(r.items || []); }, function () {});
    });
    els.body.appendChild(f);
    show(articles);
  }

  function needPrechat() {
    var p = cfg.prechat;
    return (!p.hide_name && !visitor.name) || (!p.hide_email && !p.email_optional && !visitor.email);
  }

  function chatView() {
    if (needPrechat() && !Object.keys(shown).length) return prechatView();
    els.log = el("div", { class: "log", role: "log", "aria-live": "polite" });
    els.typing = el("div", { class: "typing" });
    els.text = el("textarea", { placeholder: t.placeholder, "aria-label": t.placeholder, oninput: typed, onkeydown: function (e) { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendText(); } } });
    els.file = el("input", { type: "file", hidden: "", onchange: function () { if (els.file.files[0]) send({ file: els.file.files[0] }); els.file.value = ""; } });
    var compose = el("div", { class: "compose" }, [
      el("button", { type: "button", class: "clip", title: t.attach, "aria-label": t.attach, onclick: function () { els.file.click(); } }, [svg("M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5", true)]),
      els.file, els.text, el("button", { type: "button", class: "send", text: t.send, onclick: sendText })
    ]);
    els.body.appendChild(els.log); els.body.appendChild(els.typing); els.body.appendChild(compose);
    els.log.appendChild(el("div", { class: "m out", text: t.welcome }));
    shown = {};
    fetchMessages();
    // The live stream tells of news; a read every 10 s while the chat is open is the safety net
    // for news it may have missed (a reconnect, a chat it learnt of late).
    clearInterval(els.poll);
    els.poll = setInterval(function () { if (open && tab === "chat" && els.log && els.log.isConnected) fetchMessages(); }, 10000);
  }

  function field(name, type, required, value) {
    var input = type === "textarea" ? el("textarea", { name: name }) : el("input", { name: name, type: type });
    if (required) input.setAttribute("required", "");
    if (value) input.value = value;
    return el("label", { text: t[name] + (required ? " *" : "") }, [input]);
  }

  function prechatView() {
    var p = cfg.prechat, err = el("div", { class: "err" });
    var f = el("form", { class: "form prechat" }, [
      p.hide_name ? null : field("name", "text", true, visitor.name || ds.name),
      p.hide_email ? null : field("email", "email", !p.email_optional, visitor.email || ds.email),
      err, el("button", { type: "submit", text: t.start })
    ]);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var b = { name: val(f, "name"), email: val(f, "email") };
      call("PUT", "/visitor", b).then(function (r) { visitor = r.visitor; els.shownTab = ""; render(); }, function (x) { err.textContent = x.message; });
    });
    els.body.appendChild(f);
  }

  function val(f, n) { var i = f.querySelector("[name=" + n + "]"); return i ? i.value.trim() : ""; }

  function formView(kind, offline) {
    var err = el("div", { class: "err" }), cb = kind === "callback";
    var f = el("form", { class: "form request", "data-kind": kind }, [
      offline && !cb ? el("div", { class: "note", text: t.offline }) : null,
      field("name", "text", false, visitor.name || ds.name),
      cb ? null : field("email", "email", false, visitor.email || ds.email),
      field("phone", "tel", cb, visitor.phone || ds.phone),
      cb ? field("when", "text", false) : field("text", "textarea", true),
      err, el("button", { type: "submit", text: t.send })
    ]);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      if (preview) { els.body.textContent = ""; els.shownTab = ""; els.body.appendChild(el("div", { class: "note sent", text: t.sent })); return; }
      var b = { kind: kind, client_id: uid(), name: val(f, "name"), email: val(f, "email"), phone: val(f, "phone"), text: val(f, "text"), when: val(f, "when"), page_url: location.href.slice(0, 2000) };
      call("POST", "/requests", b).then(function () {
        els.body.textContent = ""; els.shownTab = "";
        els.body.appendChild(el("div", { class: "note sent", text: t.sent }));
      }, function (x) { err.textContent = x.message; });
    });
    els.body.appendChild(f);
  }

  // fetchMessages reads the latest messages and merges them in by id: a desk message sent late
  // (held back while an operator answered) still finds its place.
  function fetchMessages() {
    if (preview) return;
    if (!els.log || els.fetching) { if (els.fetching) els.again = true; return; }
    els.fetching = true;
    call("GET", "/messages").then(function (r) {
      r.items.forEach(show);
      els.fetching = false; els.retry = 0;
      if (els.again) { els.again = false; fetchMessages(); }
    }, function () {
      // A failed read may have been the one news asked for: read again, backing off to 30 s.
      els.fetching = false; els.again = false;
      els.retry = Math.min((els.retry || 1000) * 2, 30000);
      setTimeout(fetchMessages, els.retry);
    });
  }

  function show(m) {
    if (shown[m.id]) return;
    var mine = els.log.querySelector("[data-id='" + m.id + "']");
    shown[m.id] = true;
    if (mine) { mine.classList.remove("pending"); mine.setAttribute("data-at", m.created_at); return; }
    if (m.direction === "in" && m.kind === "button") { answered(m.text); return; } // shown as the choice on its question
    if (m.direction === "out") els.typing.textContent = "";
    var b = bubble(m), next = null;
    b.setAttribute("data-at", m.created_at);
    for (var c = els.log.firstChild; c; c = c.nextSibling) {
      var at = c.getAttribute && c.getAttribute("data-at");
      if (at && at > m.created_at) { next = c; break; }
    }
    els.log.insertBefore(b, next);
    if (!next) els.log.scrollTop = els.log.scrollHeight;
  }

  function bubble(m) {
    var a = cfg.appearance, kids = [];
    if (m.direction === "out" && (m.author || a.department_avatar)) {
      kids.push(el("div", { class: "who" }, [
        a.department_avatar && a.avatar_url && abs(a.avatar_url) ? el("img", { src: abs(a.avatar_url), alt: "" }) : null,
        el("span", { text: m.author || cfg.site.name })
      ]));
    }
    if (m.text) kids.push(el("div", { text: m.text }));
    (m.attachments || []).forEach(function (f) {
      if (f.url && /^https?:\/\//.test(f.url)) kids.push(el("div", {}, [el("a", { href: f.url, target: "_blank", rel: "noopener noreferrer", text: f.name || f.url })]));
      else if (f.name) kids.push(el("div", { text: f.name }));
    });
    if (m.buttons && m.buttons.length) {
      var row = el("div", { class: "btns" });
      m.buttons.forEach(function (b) {
        row.appendChild(el("button", { type: "button", "data-payload": b.payload, text: b.text || b.payload, onclick: function () {
          row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          send({ button: b.payload, label: b.text || b.payload });
        } }));
      });
      kids.push(row);
    }
    return el("div", { class: "m " + (m.direction === "in" ? "in" : "out"), "data-id": m.id || "" }, kids);
  }

  // answered marks a question's pressed button and locks its row (also after a reload).
  function answered(payload) {
    els.log.querySelectorAll(".btns button").forEach(function (b) {
      if (b.getAttribute("data-payload") !== payload) return;
      b.parentNode.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
      b.setAttribute("aria-pressed", "true");
    });
  }

  function sendText() {
    var x = els.text.value.trim();
    if (!x) return;
    els.text.value = "";
    send({ text: x });
  }

  // send posts a visitor's message with an id of its own: sent again after a failure, it is the
  // same message and the desk stores it once.
  function send(o) {
    if (preview) { els.log.appendChild(bubble({ direction: "in", text: o.label || o.text || "" })); return; }
    var id = o.id || uid();
    var b = els.log.querySelector("[data-client='" + id + "']");
    if (!b) {
      b = bubble({ direction: "in", text: o.label || o.text || (o.file && o.file.name) || "" });
      b.setAttribute("data-client", id);
      els.log.appendChild(b);
      els.log.scrollTop = els.log.scrollHeight;
    }
    b.className = "m in pending"; b.title = "";
    var body, form = false;
    if (o.file) {
      body = new FormData(); body.append("client_id", id); body.append("file", o.file); body.append("page_url", location.href.slice(0, 2000));
      form = true;
    } else {
      body = { client_id: id, text: o.text || "", button: o.button || "", page_url: location.href.slice(0, 2000) };
    }
    call("POST", "/messages", body, form).then(function (r) {
      b.setAttribute("data-id", r.message_id);
      if (shown[r.message_id]) b.remove(); else { shown[r.message_id] = true; b.classList.remove("pending"); }
      if (!stream) connect();
    }, function (e) {
      b.className = "m in failed"; b.title = t.retry + (e.message ? " (" + e.message + ")" : "");
      b.onclick = function () { b.onclick = null; send({ id: id, text: o.text, file: o.file, button: o.button, label: o.label }); };
    });
  }

  function typed() {
    if (preview) return;
    var now = Date.now();
    if (now - lastTyping < 3000) return;
    lastTyping = now;
    call("POST", "/typing").catch(function () {});
  }

  function showNote(x) { if (els.body) { els.body.textContent = ""; els.body.appendChild(el("div", { class: "note", text: x })); } }

  // connect reads the visitor's event stream (fetch, so the token goes in a header rather than
  // the URL) and reconnects after a pause when it ends.
  function connect() {
    if (stream || !token || !window.ReadableStream) return;
    var ctl = new AbortController(), buf = "";
    stream = ctl;
    fetch(api + "/events", { headers: { Authorization: "Bearer " + token }, signal: ctl.signal, mode: "cors", credentials: "omit" }).then(function (r) {
      if (r.status === 401) { token = null; store(tokenKey, null); }
      if (!r.ok || !r.body) throw new Error("stream " + r.status);
      var reader = r.body.getReader(), dec = new TextDecoder();
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) throw new Error("stream ended");
          buf += dec.decode(x.value, { stream: true });
          var i;
          while ((i = buf.indexOf("\n\n")) >= 0) { frame(buf.slice(0, i)); buf = buf.slice(i + 2); }
          return pump();
        });
      }
      return pump();
    }).catch(function () {}).then(function () {
      if (stream === ctl) stream = null;
      if (open && token) setTimeout(connect, 3000);
    });
  }

  function frame(f) {
    var ev = "message", data = "";
    f.split("\n").forEach(function (l) {
      if (l.indexOf("event:") === 0) ev = l.slice(6).trim();
      else if (l.indexOf("data:") === 0) data += l.slice(5).trim();
    });
    if (!data) return;
    if (ev === "message") fetchMessages();
    else if (ev === "typing" && els.typing) {
      var d = {}; try { d = JSON.parse(data); } catch (e) { d = {}; }
      els.typing.textContent = (d.name || t.staff) + t.typing;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { if (els.typing) els.typing.textContent = ""; }, 5000);
    }
  }

  function start() {
    var lang = ds.lang || "";
    call("GET", "?page=" + encodeURIComponent(location.href.slice(0, 2000)) + "&lang=" + encodeURIComponent(lang)).then(function (c) {
      cfg = c; t = T[c.language] || T.ru;
      mount();
      window.LinedeskWidget.ready = true;
      // Every visitor is on the supervisors' live list: a token now (kept for the next visit),
      // then a ping every half minute while the page is in view.
      ensureVisitor().then(function () { pingTimer = setInterval(ping, 30000); }, function () {});
      if (window.LinedeskWidget.wantOpen) toggle(true);
    }, function (e) {
      if (window.console) console.warn("linedesk widget: " + e.message);
    });
  }

  // The console's settings page loads the script with data-preview: it then draws the widget
  // with the settings being edited, inside the page, with sample messages and no calls.
  if (ds.preview !== undefined) {
    window.LinedeskWidgetPreview = function (container, c) {
      cfg = c; t = T[c.language] || T.ru; preview = true; els = {}; tab = "chat";
      visitor = { name: "Vera", email: "vera@example.com" };
      root = container.shadowRoot || container.attachShadow({ mode: "open" });
      while (root.firstChild) root.removeChild(root.firstChild);
      style(root, ".launch,.panel{position:absolute}");
      launcher();
      build();
      open = true;
      els.panel.style.display = "flex";
      render();
      if (els.log) {
        els.log.appendChild(bubble({ direction: "in", text: t.sampleQ }));
        els.log.appendChild(bubble({ direction: "out", author: c.appearance.department_avatar ? "" : "Olga", text: t.sampleA }));
      }
    };
    return;
  }

  window.LinedeskWidget = {
    open: function () { if (cfg) toggle(true); else window.LinedeskWidget.wantOpen = true; },
    close: function () { if (cfg) toggle(false); },
    // reset forgets this browser's visitor (the site calls it when its user signs out).
    reset: function () {
      if (stream) stream.abort();
      stream = null; token = null; visitor = null; store(tokenKey, null);
      if (els.panel) { els.panel.remove(); els.panel = null; }
      open = false; els = { launch: els.launch };
    },
    ready: false
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  void pingTimer;
})();
