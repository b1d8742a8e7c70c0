/*
 * Handoff landing helper. Include on the advertiser's pages:
 *   <script src="https://go.vendor.example/t.js" data-offer="demo-crm" async></script>
 * It keeps the partner click token from the landing URL across the visitor's pages without cookies
 * (sessionStorage and same-site link decoration), adds it to every form as a hidden field, shows the
 * click's reference code in elements marked data-handoff-ref, and fires conversions:
 *   Handoff.convert({event: "lead", order_id: "F-1001"});
 * or, for an offer that signs its pixels, with the sig the advertiser's server computed:
 *   Handoff.convert({event: "sale", order_id: "F-1002", amount: "49.90", currency: "EUR", sig: "…"});
 * It talks to no one but the Handoff server it was loaded from.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.Handoff) { return; }
  var origin = new URL(script.src, location.href).origin;
  var param = script.getAttribute("data-param") || "atk";
  var offer = script.getAttribute("data-offer") || "";
  var storageKey = "handoff:" + param;
  var reference = null;
  var referenceWaiters = [];

  function stored(value) {
    try {
      if (value) { sessionStorage.setItem(storageKey, value); }
      return sessionStorage.getItem(storageKey);
    } catch (e) { return value || null; }  // storage can be disabled; the URL still carries the token
  }

  var token = new URLSearchParams(location.search).get(param);
  token = /^[A-Za-z0-9_-]{20,64}$/.test(token || "") ? stored(token) : stored(null);

  function addHidden(form, name, value) {
    var field = form.querySelector("input[type=hidden][name='" + name + "']");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      form.appendChild(field);
    }
    field.value = value;
  }

  function decorateForm(form) {
    if (!token) { return; }
    addHidden(form, param, token);
    if (reference) { addHidden(form, "handoff_ref", reference); }
  }

  function decorateLink(link) {
    // Same-site links carry the token so a page opened in a new tab still knows the click.
    if (!token || !link.href || link.origin !== location.origin) { return; }
    var url = new URL(link.href);
    if (url.searchParams.get(param) === token) { return; }
    url.searchParams.set(param, token);
    link.href = url.toString();
  }

  function showReference(element) { if (reference) { element.textContent = reference; } }

  function decorate(root) {
    if (!root.querySelectorAll) { return; }
    Array.prototype.forEach.call(root.querySelectorAll("form"), decorateForm);
    Array.prototype.forEach.call(root.querySelectorAll("a[href]"), decorateLink);
    Array.prototype.forEach.call(root.querySelectorAll("[data-handoff-ref]"), showReference);
    if (root.matches && root.matches("form")) { decorateForm(root); }
  }

  function fetchReference(attempt) {
    if (!token || !window.fetch) { return; }
    fetch(origin + "/t/ref?" + param + "=" + encodeURIComponent(token), {credentials: "omit"})
      .then(function (response) {
        if (response.status === 202 && attempt < 8) {  // the click is still on its way to the database
          setTimeout(function () { fetchReference(attempt + 1); }, 750);
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (!body || !body.ref) { return; }
        reference = body.ref;
        decorate(document);
        referenceWaiters.splice(0).forEach(function (resolve) { resolve(reference); });
      })
      .catch(function () { /* the page works without the reference code */ });
  }

  function convert(details) {
    details = details || {};
    var target = details.offer || offer;
    if (!target) { return Promise.reject(new Error("Handoff.convert needs an offer (data-offer)")); }
    var query = new URLSearchParams();
    ["event", "order_id", "amount", "currency", "coupon", "email", "domain", "tax_id", "sig"].forEach(function (name) {
      if (details[name] !== undefined && details[name] !== null) { query.set(name, String(details[name])); }
    });
    if (!query.get("event")) { query.set("event", "lead"); }
    if (token) { query.set("atk", token); } else if (details.ref) { query.set("ref", details.ref); }
    return new Promise(function (resolve) {
      var pixel = new Image();
      pixel.referrerPolicy = "no-referrer";
      pixel.onload = pixel.onerror = function () { resolve(); };
      pixel.src = origin + "/p/" + encodeURIComponent(target) + ".gif?" + query.toString();
    });
  }

  window.Handoff = {
    token: function () { return token; },
    ref: function () {
      return reference ? Promise.resolve(reference) : new Promise(function (resolve) { referenceWaiters.push(resolve); });
    },
    convert: convert
  };

  function whenShown(callback) {
    // The first ask for the reference code confirms a prefetched click as the person's visit, so a page
    // the browser prerenders ahead of the person waits until it is really shown.
    if (document.prerendering) {
      document.addEventListener("prerenderingchange", callback, {once: true});
    } else {
      callback();
    }
  }

  function start() {
    decorate(document);
    if (window.MutationObserver) {
      new MutationObserver(function (changes) {
        changes.forEach(function (change) { Array.prototype.forEach.call(change.addedNodes, decorate); });
      }).observe(document.documentElement, {childList: true, subtree: true});
    }
    whenShown(function () { fetchReference(0); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
