/* The website chat widget: talks to the Rasa server over socket.io.
 *
 * - Bot text is never parsed as HTML: it is turned into DOM nodes, with only
 *   **bold**, line breaks and [label](url) links for http(s), tel:, sms: and mailto:.
 * - Buttons are real <button>s (keyboard and screen readers work); clicking one sends
 *   its payload and shows its title as the visitor's message.
 * - A reply carrying {"handoff": {...}} raises a banner with tap-to-call links.
 * - Only the session id (signed by the server) is kept, in sessionStorage: the
 *   conversation goes on after a reload, but what was said is held in the page's
 *   memory only and is gone with it (sensitive health topic, shared computers).
 */
(function () {
  "use strict";

  var config = window.CHAT_CONFIG || {};
  var STORE_KEY = "dcla-chat-v2";
  var INIT_PAYLOAD = "/greet";
  var MAX_LENGTH = 1000;
  var SAFE_SCHEMES = /^(https?:|tel:|sms:|mailto:)/i;

  var launcher = document.getElementById("chat-launcher");
  var panel = document.getElementById("chat-panel");
  var closeButton = document.getElementById("chat-close");
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var banner = document.getElementById("handoff-banner");
  var statusBox = document.getElementById("chat-status");
  var typing = document.getElementById("chat-typing");

  var state = load();
  var socket = null;
  var confirmed = false;
  var pending = [];
  var typingTimer = null;

  function load() {
    var fresh = { sessionId: null, messages: [], handoff: null, open: false, greeted: false };
    try {
      window.sessionStorage.removeItem("dcla-chat-v1"); // older versions kept the transcript
      var saved = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      if (saved && typeof saved.sessionId === "string") {
        fresh.sessionId = saved.sessionId;
        fresh.greeted = true; // a conversation that goes on is not greeted again
      }
    } catch (e) {
      /* storage unavailable or corrupt: start a new conversation */
    }
    return fresh;
  }

  function save() {
    try {
      // the session id only: never what was said
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify({ sessionId: state.sessionId }));
    } catch (e) {
      /* private mode: the conversation still works, it just won't survive a reload */
    }
  }

  // ------------------------------------------------------------------ rendering

  function appendInline(parent, text) {
    // **bold** and [label](url); everything else is plain text.
    var pattern = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      if (match[1] !== undefined) {
        var strong = document.createElement("strong");
        strong.textContent = match[1];
        parent.appendChild(strong);
      } else if (SAFE_SCHEMES.test(match[3])) {
        var link = document.createElement("a");
        link.textContent = match[2];
        link.href = match[3];
        if (/^https?:/i.test(match[3])) {
          link.target = "_blank";
          link.rel = "noopener noreferrer";
        }
        parent.appendChild(link);
      } else {
        parent.appendChild(document.createTextNode(match[0]));
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function renderText(parent, text) {
    var lines = String(text).split("\n");
    lines.forEach(function (line, i) {
      if (i > 0) {
        parent.appendChild(document.createElement("br"));
      }
      appendInline(parent, line);
    });
  }

  function renderMessage(message, index) {
    var item = document.createElement("li");
    item.className = "chat-msg " + (message.from === "user" ? "user" : "bot");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = message.from === "user" ? "You said: " : "Assistant: ";
    var bubble = document.createElement("div");
    bubble.className = "chat-bubble";
    bubble.appendChild(who);
    renderText(bubble, message.text || "");
    item.appendChild(bubble);

    if (message.buttons && message.buttons.length) {
      var group = document.createElement("div");
      group.className = "chat-buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      var active = index === lastBotIndex();
      message.buttons.forEach(function (button) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = button.title;
        b.disabled = !active;
        b.addEventListener("click", function () {
          send(button.payload, button.title);
        });
        group.appendChild(b);
      });
      item.appendChild(group);
    }
    return item;
  }

  function lastBotIndex() {
    for (var i = state.messages.length - 1; i >= 0; i--) {
      if (state.messages[i].from === "bot") {
        return i;
      }
      return -1; // the visitor spoke last: older buttons are done
    }
    return -1;
  }

  function renderLog() {
    log.textContent = "";
    state.messages.forEach(function (message, i) {
      log.appendChild(renderMessage(message, i));
    });
    // The start of the newest answer stays in view, even when it is long and the
    // panel is short (a phone, or a 1280x800 screen under a banner).
    var last = log.lastElementChild;
    if (last && last.offsetHeight > log.clientHeight) {
      log.scrollTop = last.offsetTop - log.offsetTop;
    } else {
      log.scrollTop = log.scrollHeight;
    }
  }

  function addMessage(message) {
    state.messages.push(message);
    save();
    renderLog();
  }

  var BANNERS = {
    emergency: {
      title: "Emergency? Call 911 now.",
      text: "Follow the dispatcher. If the person is awake and breathing normally, Poison Help can advise.",
    },
    crisis: {
      title: "You are not alone. Call or text 988.",
      text: "The 988 Suicide & Crisis Lifeline is free and open 24/7, also by chat at 988lifeline.org. In danger right now? Call 911.",
    },
    admissions: {
      title: "Talk to our admissions team",
      text: "A real person can help with next steps.",
    },
  };

  function callLink(label, href, secondary) {
    var a = document.createElement("a");
    a.className = "handoff-call" + (secondary ? " secondary" : "");
    a.href = href;
    a.textContent = label;
    return a;
  }

  function renderBanner() {
    var h = state.handoff;
    banner.textContent = "";
    if (!h || !BANNERS[h.level]) {
      banner.hidden = true;
      return;
    }
    var copy = BANNERS[h.level];
    banner.className = "handoff-banner level-" + h.level + (h.collapsed ? " collapsed" : "");
    var title = document.createElement("h3");
    title.textContent = copy.title;
    // The banner collapses (this button, or the visitor's next message) to a slim
    // bar that keeps its call buttons, so the conversation keeps its room.
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "handoff-toggle";
    toggle.setAttribute("aria-expanded", h.collapsed ? "false" : "true");
    toggle.textContent = h.collapsed ? "More" : "Less";
    toggle.addEventListener("click", function () {
      state.handoff.collapsed = !state.handoff.collapsed;
      save();
      renderBanner();
      renderLog();
    });
    var text = document.createElement("p");
    text.textContent = copy.text;
    var actions = document.createElement("div");
    actions.className = "handoff-actions";
    (h.resources || []).forEach(function (r) {
      // "Call 911", "Text 988", "Call Poison Help 1-800-222-1222"
      var name = String(r.name || "").replace(/\s*\(.*\)$/, "");
      var what = name.indexOf(r.phone) === 0 ? r.phone : name + " " + r.phone;
      if (r.tel && /^tel:/.test(r.tel)) {
        actions.appendChild(callLink("Call " + what, r.tel, h.level === "admissions"));
      } else if (r.sms && /^sms:/.test(r.sms)) {
        actions.appendChild(callLink("Text " + what, r.sms, true));
      }
    });
    if (h.tel && /^tel:/.test(h.tel)) {
      // Admissions first when that is what the visitor asked for; after 911/988 otherwise.
      var admissions = callLink("Call admissions " + h.phone, h.tel, h.level !== "admissions");
      actions.insertBefore(admissions, h.level === "admissions" ? actions.firstChild : null);
    }
    banner.appendChild(toggle);
    banner.appendChild(title);
    banner.appendChild(text);
    banner.appendChild(actions);
    if (h.hours) {
      var hours = document.createElement("p");
      hours.textContent = "Admissions hours: " + h.hours;
      banner.appendChild(hours);
    }
    banner.hidden = false;
  }

  function setStatus(text) {
    statusBox.textContent = text || "";
    statusBox.hidden = !text;
  }

  function setTyping(on) {
    typing.hidden = !on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    window.clearTimeout(typingTimer);
    if (on) {
      // No reply in 20 s: say so, with the numbers that never depend on the bot.
      typingTimer = window.setTimeout(function () {
        typing.hidden = true;
        setStatus(
          "The assistant is taking longer than usual. If you need help now, call 911, or call or text 988."
        );
      }, 20000);
    }
  }

  // ------------------------------------------------------------------ socket

  function connect() {
    if (socket || typeof window.io !== "function") {
      if (typeof window.io !== "function") {
        setStatus("The chat could not load. If you need help now, call 911, or call or text 988.");
      }
      return;
    }
    var url =
      config.socketUrl ||
      window.location.protocol + "//" + window.location.hostname + ":" + (config.rasaPort || 5005);
    socket = window.io(url, {
      path: config.socketPath || "/socket.io",
      // WebSocket only: one connection stays with one Rasa worker process
      // (SANIC_WORKERS) or server; HTTP long-polling would spread a session's
      // requests over workers that do not know it.
      transports: ["websocket"],
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", function () {
      confirmed = false;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (data) {
      var id = typeof data === "string" ? data : data && data.session_id;
      if (id) {
        state.sessionId = id;
        save();
      }
      confirmed = true;
      setStatus("");
      if (!state.greeted) {
        state.greeted = true;
        save();
        emit(INIT_PAYLOAD);
      }
      while (pending.length) {
        emit(pending.shift());
      }
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("connect_error", function () {
      setStatus("Connecting to the assistant... If you need help now, call 911, or call or text 988.");
    });
    socket.on("disconnect", function () {
      confirmed = false;
    });
  }

  function emit(text) {
    if (!socket || !confirmed) {
      pending.push(text);
      return;
    }
    setTyping(true);
    socket.emit("user_uttered", { message: text, session_id: state.sessionId });
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    setTyping(false);
    setStatus("");
    var custom = data.custom;
    if (custom && typeof custom === "object" && custom.rate_limited) {
      setStatus("Too many messages at once. Please wait a moment before sending the next one.");
    }
    if (custom && typeof custom === "object" && custom.handoff) {
      state.handoff = custom.handoff;
      save();
      renderBanner();
    }
    var buttons = (data.quick_replies || data.buttons || [])
      .filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      })
      .map(function (b) {
        return { title: b.title, payload: b.payload };
      });
    if (typeof data.text === "string" && data.text.trim()) {
      addMessage({ from: "bot", text: data.text, buttons: buttons });
    } else if (buttons.length) {
      addMessage({ from: "bot", text: "", buttons: buttons });
    }
  }

  function send(payload, shown) {
    if (state.handoff && !state.handoff.collapsed) {
      state.handoff.collapsed = true;
      renderBanner();
    }
    addMessage({ from: "user", text: shown });
    emit(payload);
  }

  // ------------------------------------------------------------------ open/close

  function open(focusInput) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    save();
    connect();
    renderLog();
    if (focusInput !== false) {
      input.focus();
    }
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    open(true);
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      close();
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.replace(/\s+$/, "").replace(/^\s+/, "");
    if (!text) {
      input.focus();
      return;
    }
    if (text.length > MAX_LENGTH) {
      text = text.slice(0, MAX_LENGTH);
    }
    input.value = "";
    send(text, text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });

  renderBanner();
  if (state.open) {
    open(false);
  }
})();
