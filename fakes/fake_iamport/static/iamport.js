/* Fake PortOne (iamport) V1 browser SDK: IMP.init(code), IMP.request_pay(params, callback). */
(function () {
  "use strict";
  var script = document.currentScript;
  var FAKE_ORIGIN = script && script.src ? new URL(script.src, location.href).origin : "__DEFAULT_ORIGIN__";
  var SOURCE = "fake-iamport";
  var USER_CANCEL_CODE = "__USER_CANCEL_CODE__";
  var USER_CANCEL_MSG = "__USER_CANCEL_MSG__";
  // Current PG modules answer only imp_uid, merchant_uid, error_code, error_msg.
  var RICH_CALLBACK = "__RICH_CALLBACK__";
  var merchantCode = null;

  function windowUrl(params, mode, returnUrl) {
    var query = new URLSearchParams();
    query.set("code", merchantCode || "");
    query.set("params", JSON.stringify(params));
    query.set("mode", mode);
    query.set("origin", location.origin);
    if (returnUrl) query.set("return_url", returnUrl);
    return FAKE_ORIGIN + "/window?" + query.toString();
  }

  function userCancel(params, impUid) {
    if (RICH_CALLBACK !== true) {
      return {
        imp_uid: impUid || null,
        merchant_uid: params.merchant_uid || null,
        error_code: USER_CANCEL_CODE,
        error_msg: USER_CANCEL_MSG
      };
    }
    return {
      success: false,
      imp_success: false,
      imp_uid: impUid || null,
      merchant_uid: params.merchant_uid || null,
      pay_method: params.pay_method || "card",
      status: "failed",
      error_code: USER_CANCEL_CODE,
      error_msg: USER_CANCEL_MSG
    };
  }

  // As the real SDK: a phone's browser goes to the window and back by m_redirect_url; a PC opens
  // a popup and answers the callback (m_redirect_url is ignored there).
  function isMobile() {
    return /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent || "");
  }

  function requestPay(params, callback) {
    params = params || {};
    callback = typeof callback === "function" ? callback : function () {};
    if (params.m_redirect_url && isMobile()) {
      location.href = windowUrl(params, "redirect", params.m_redirect_url);
      return;
    }
    var popup = window.open(windowUrl(params, "popup"), "fake_iamport_" + Date.now(), "width=520,height=780");
    if (!popup) {
      // Popup blocked: the whole page goes to the window and comes back here.
      location.href = windowUrl(params, "redirect", location.href);
      return;
    }
    var done = false;
    var impUid = null;
    var timer = null;

    function finish(rsp) {
      if (done) return;
      done = true;
      window.removeEventListener("message", onMessage);
      clearInterval(timer);
      callback(rsp);
    }

    function onMessage(event) {
      if (event.origin !== FAKE_ORIGIN) return;
      var data = event.data || {};
      if (data.source !== SOURCE) return;
      if (event.source && event.source !== popup) return;
      if (data.type === "opened") impUid = data.imp_uid;
      if (data.type === "result") finish(data.rsp);
    }

    window.addEventListener("message", onMessage);
    timer = setInterval(function () {
      if (done || !popup.closed) return;
      clearInterval(timer);
      // A result posted just before the window closed may still be queued: wait a moment.
      setTimeout(function () {
        if (done) return;
        if (!impUid) {
          finish(userCancel(params, null));
          return;
        }
        fetch(FAKE_ORIGIN + "/window/" + encodeURIComponent(impUid) + "/close", { method: "POST" })
          .then(function (response) { return response.json(); })
          .then(finish, function () { finish(userCancel(params, impUid)); });
      }, 300);
    }, 200);
  }

  window.IMP = {
    init: function (code) { merchantCode = code; },
    agency: function (code) { merchantCode = code; },
    request_pay: requestPay
  };
})();
