/* Fake PortOne V2 browser SDK: window.PortOne.requestPayment(request),
   requestIssueBillingKey(request), requestIssueBillingKeyAndPay(request). Each opens the fake's
   payment window as a popup and resolves with the response, or (redirectUrl with forceRedirect,
   windowType REDIRECTION, or a phone) sends the page to the window, which returns to redirectUrl
   with the same fields in the query. */
(function () {
  "use strict";
  var script = document.currentScript;
  var FAKE_ORIGIN = script && script.src ? new URL(script.src, location.href).origin : "__DEFAULT_ORIGIN__";
  var SOURCE = "fake-portone";
  var USER_CANCEL = { code: "FAILURE_TYPE_PG", message: "사용자가 결제를 취소하였습니다" };
  var REQUIRED = {
    payment: ["storeId", "paymentId", "orderName", "totalAmount", "currency", "payMethod"],
    issue: ["storeId"],
    issue_and_pay: ["storeId", "paymentId", "orderName", "totalAmount", "currency"]
  };
  var TYPES = { payment: "PAYMENT", issue: "ISSUE_BILLING_KEY", issue_and_pay: "ISSUE_BILLING_KEY_AND_PAY" };

  function isMobile() {
    return /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent || "");
  }

  function windowUrl(kind, request, mode) {
    var query = new URLSearchParams();
    query.set("kind", kind);
    query.set("request", JSON.stringify(request));
    query.set("mode", mode);
    query.set("origin", location.origin);
    return FAKE_ORIGIN + "/v2/window?" + query.toString();
  }

  function redirects(request) {
    if (!request.redirectUrl) return false;
    var windowType = request.windowType || {};
    var type = isMobile() ? windowType.mobile : windowType.pc;
    return Boolean(request.forceRedirect) || type === "REDIRECTION" || isMobile();
  }

  function base(kind, request) {
    var response = { transactionType: TYPES[kind] };
    if (request.paymentId) response.paymentId = String(request.paymentId);
    return response;
  }

  function open(kind, request) {
    request = request || {};
    return new Promise(function (resolve) {
      var missing = REQUIRED[kind].filter(function (name) {
        return request[name] === undefined || request[name] === null || request[name] === "";
      });
      if (missing.length) {
        // Errors before the payment starts are answered here, never redirected.
        resolve(Object.assign(base(kind, request), {
          code: "PORTONE_ERROR",
          message: "필수 파라미터가 없습니다: " + missing.join(", ")
        }));
        return;
      }
      if (redirects(request)) {
        location.href = windowUrl(kind, request, "redirect");
        resolve(undefined);
        return;
      }
      var popup = window.open(windowUrl(kind, request, "popup"), "fake_portone_" + Date.now(), "width=520,height=820");
      if (!popup) {
        if (request.redirectUrl) {
          location.href = windowUrl(kind, request, "redirect");
          resolve(undefined);
        } else {
          resolve(Object.assign(base(kind, request), { code: "PORTONE_ERROR", message: "결제창 팝업이 차단되었습니다" }));
        }
        return;
      }
      var done = false;
      var sessionId = null;
      var timer = null;

      function finish(response) {
        if (done) return;
        done = true;
        window.removeEventListener("message", onMessage);
        clearInterval(timer);
        resolve(response);
      }

      function onMessage(event) {
        if (event.origin !== FAKE_ORIGIN) return;
        var data = event.data || {};
        if (data.source !== SOURCE) return;
        if (event.source && event.source !== popup) return;
        if (data.type === "opened") sessionId = data.session;
        if (data.type === "result") finish(data.response);
      }

      window.addEventListener("message", onMessage);
      timer = setInterval(function () {
        if (done || !popup.closed) return;
        clearInterval(timer);
        // A result posted just before the window closed may still be queued: wait a moment.
        setTimeout(function () {
          if (done) return;
          if (!sessionId) {
            finish(Object.assign(base(kind, request), USER_CANCEL));
            return;
          }
          fetch(FAKE_ORIGIN + "/v2/window/" + encodeURIComponent(sessionId) + "/close", { method: "POST" })
            .then(function (response) { return response.json(); })
            .then(finish, function () { finish(Object.assign(base(kind, request), USER_CANCEL)); });
        }, 300);
      }, 200);
    });
  }

  window.PortOne = {
    requestPayment: function (request) { return open("payment", request); },
    requestIssueBillingKey: function (request) { return open("issue", request); },
    requestIssueBillingKeyAndPay: function (request) { return open("issue_and_pay", request); }
  };
})();
