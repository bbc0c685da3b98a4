/* Fake Toss Payments v1 browser SDK: window.TossPayments(clientKey). Served by fake_toss. */
(function () {
  "use strict";

  var script = document.currentScript;
  var ORIGIN = script && script.src ? new URL(script.src).origin : "__FAKE_TOSS_ORIGIN__";
  var METHODS = {
    "카드": "CARD",
    CARD: "CARD",
    "가상계좌": "VIRTUAL_ACCOUNT",
    VIRTUAL_ACCOUNT: "VIRTUAL_ACCOUNT"
  };
  var PAYMENT_PARAMS = [
    "amount", "orderId", "orderName", "customerName", "customerEmail", "currency",
    "taxFreeAmount", "validHours", "dueDate", "virtualAccountCallbackUrl"
  ];
  var BILLING_PARAMS = ["customerKey", "customerName", "customerEmail"];

  function tossError(code, message) {
    var error = new Error(message);
    error.code = code;
    error.name = "TossPaymentsError";
    return error;
  }

  function absolute(url) {
    return new URL(String(url), window.location.href).href;
  }

  function windowUrl(path, query) {
    var search = new URLSearchParams();
    Object.keys(query).forEach(function (key) {
      var value = query[key];
      if (value !== undefined && value !== null && value !== "") {
        search.set(key, String(value));
      }
    });
    return ORIGIN + path + "?" + search.toString();
  }

  function pick(params, names, into) {
    names.forEach(function (name) {
      if (params[name] !== undefined && params[name] !== null) {
        into[name] = params[name];
      }
    });
    return into;
  }

  // Promise mode: the window is a popup that answers through postMessage.
  function openPopup(url, resolve, reject) {
    var popup = window.open(url, "tosspayments", "width=480,height=760");
    if (!popup) {
      reject(tossError("POPUP_BLOCKED", "결제창 팝업이 차단되었습니다."));
      return;
    }
    var settled = false;
    function finish() {
      settled = true;
      window.removeEventListener("message", onMessage);
      clearInterval(watch);
    }
    function onMessage(event) {
      var data = event.data;
      if (event.origin !== ORIGIN || !data || data.source !== "fake_toss" || settled) {
        return;
      }
      finish();
      if (data.error) {
        reject(tossError(data.error.code, data.error.message));
      } else {
        resolve(data.result);
      }
    }
    window.addEventListener("message", onMessage);
    var watch = setInterval(function () {
      if (popup.closed && !settled) {
        // Give a message posted just before closing the chance to arrive first.
        setTimeout(function () {
          if (!settled) {
            finish();
            reject(tossError("USER_CANCEL", "사용자가 결제를 취소하였습니다."));
          }
        }, 300);
      }
    }, 200);
  }

  function start(path, query, params, resolve, reject) {
    var hasSuccess = Boolean(params.successUrl);
    var hasFail = Boolean(params.failUrl);
    if (hasSuccess !== hasFail) {
      reject(tossError("INVALID_PARAMETER", "successUrl과 failUrl을 함께 입력해주세요."));
      return;
    }
    if (hasSuccess) {
      query.successUrl = absolute(params.successUrl);
      query.failUrl = absolute(params.failUrl);
      // The page leaves for the window; this promise never settles, as with the real SDK.
      window.location.assign(windowUrl(path, query));
      return;
    }
    query.mode = "popup";
    query.opener = window.location.origin;
    openPopup(windowUrl(path, query), resolve, reject);
  }

  function TossPayments(clientKey) {
    if (!clientKey) {
      throw tossError("INVALID_PARAMETER", "clientKey가 필요합니다.");
    }
    return {
      requestPayment: function (method, params) {
        return new Promise(function (resolve, reject) {
          params = params || {};
          var normalized = METHODS[method];
          if (!normalized) {
            reject(tossError("NOT_SUPPORTED_METHOD", "지원하지 않는 결제수단입니다: " + method));
            return;
          }
          if (params.amount === undefined || params.amount === null || !params.orderId || !params.orderName) {
            reject(tossError("INVALID_PARAMETER", "amount, orderId, orderName은 필수 파라미터입니다."));
            return;
          }
          var query = pick(params, PAYMENT_PARAMS, { clientKey: clientKey, method: normalized });
          start("/window", query, params, resolve, reject);
        });
      },
      requestBillingAuth: function (method, params) {
        return new Promise(function (resolve, reject) {
          params = params || {};
          if (METHODS[method] !== "CARD") {
            reject(tossError("NOT_SUPPORTED_METHOD", "자동결제는 카드만 지원합니다: " + method));
            return;
          }
          if (!params.customerKey) {
            reject(tossError("INVALID_PARAMETER", "customerKey는 필수 파라미터입니다."));
            return;
          }
          var query = pick(params, BILLING_PARAMS, { clientKey: clientKey });
          start("/billing-window", query, params, resolve, reject);
        });
      }
    };
  }

  window.TossPayments = TossPayments;
})();
