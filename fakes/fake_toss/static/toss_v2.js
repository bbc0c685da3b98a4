/* Fake Toss Payments v2 browser SDK (the script @tosspayments/tosspayments-sdk loads):
   window.TossPayments(clientKey) -> {payment, widgets, brandpay}. Served by fake_toss at /v2/standard. */
(function () {
  "use strict";

  var script = document.currentScript;
  var ORIGIN = script && script.src ? new URL(script.src).origin : "__FAKE_TOSS_ORIGIN__";
  var ANONYMOUS = "@@ANONYMOUS";
  var CLIENT_KEY = /^(test|live)_(ck|gck)_[A-Za-z0-9_]+$/;
  var SECRET_KEY = /^(test|live)_(sk|gsk)_/;
  var WIDGET_KEY = /^(test|live)_gck_/;
  var CUSTOMER_KEY = /^[A-Za-z0-9\-_=.@]{2,50}$/;
  var ORDER_ID = /^[A-Za-z0-9\-_=]{6,64}$/;
  var CURRENCIES = ["KRW", "USD"];
  // What the fake's window can take; the SDK's other methods are refused as NOT_SUPPORTED_METHOD.
  var WINDOW_METHODS = ["CARD", "VIRTUAL_ACCOUNT"];
  var ALL_METHODS = WINDOW_METHODS.concat([
    "TRANSFER", "MOBILE_PHONE", "CULTURE_GIFT_CERTIFICATE", "BOOK_GIFT_CERTIFICATE",
    "GAME_GIFT_CERTIFICATE", "FOREIGN_EASY_PAY"
  ]);
  var COMMON_PARAMS = [
    "orderId", "orderName", "successUrl", "failUrl", "customerName", "customerEmail",
    "customerMobilePhone", "taxFreeAmount", "windowTarget", "metadata", "pendingUrl",
    "orderProductCode", "subOrders", "sandbox"
  ];
  var PAYMENT_PARAMS = COMMON_PARAMS.concat([
    "method", "amount", "card", "virtualAccount", "transfer", "mobilePhone", "foreignEasyPay",
    "easyPay", "giftCertificate"
  ]);
  var WIDGET_PARAMS = COMMON_PARAMS.concat(["card", "transfer", "virtualAccount", "foreignEasyPay"]);
  var BILLING_PARAMS = [
    "method", "successUrl", "failUrl", "customerName", "customerEmail", "windowTarget",
    "selectableCardTypes", "flowMode", "easyPay", "cardCompany"
  ];
  var MESSAGES = {
    USER_CANCEL: "취소되었습니다.",
    INVALID_CLIENT_KEY: "ClientKey 형태가 올바르지 않습니다.",
    INVALID_CUSTOMER_KEY: "고객키는 영문 대소문자, 숫자, 특수문자 -, _, =, ., @로 2자 이상 50자 이하여야 합니다.",
    INSECURE_KEY_USAGE: "test_gsk, live_gsk로 시작하는 시크릿 키는 클라이언트 코드에 노출되면 안 됩니다.",
    NOT_SUPPORTED_API_INDIVIDUAL_KEY: "결제위젯 연동 키의 클라이언트 키로 SDK를 연동해주세요. API 개별 연동 키는 지원하지 않습니다.",
    NOT_SUPPORTED_WIDGET_KEY: "API 개별 연동 키의 클라이언트 키로 SDK를 연동해주세요. 결제위젯 연동 키는 지원하지 않습니다.",
    INVALID_METHOD_TRANSACTION: "이미 다른 요청을 수행하고 있어요.",
    INVALID_AMOUNT_VALUE: "결제금액이 올바르지 않습니다.",
    INVALID_AMOUNT_CURRENCY: "잘못된 통화 값입니다.",
    BELOW_ZERO_AMOUNT: "금액은 0보다 커야 합니다.",
    INCORRECT_SUCCESS_URL_FORMAT: "잘못된 successUrl 입니다.",
    INCORRECT_FAIL_URL_FORMAT: "잘못된 failUrl 입니다.",
    NOT_SUPPORTED_PROMISE: "Promise 방식을 지원하지 않습니다. successUrl, failUrl을 사용해주세요.",
    NOT_SUPPORTED_METHOD: "지원되지 않는 결제수단입니다.",
    INVALID_METADATA: "올바르지 않은 metadata 형식입니다.",
    V1_METHOD_NOT_SUPPORTED: "해당 API 는 v1 에서만 제공됩니다.",
    NOT_SETUP_AMOUNT: "결제금액이 설정되지 않았습니다. setAmount를 호출해주세요.",
    INVALID_SELECTOR: "selector에 해당하는 HTML 요소를 찾을 수 없습니다.",
    INVALID_VARIANT_KEY: "variantKey에 해당하는 위젯을 찾을 수 없습니다.",
    PAYMENT_METHODS_WIDGET_ALREADY_RENDERED: "하나의 결제 UI 위젯만을 사용할 수 있어요.",
    AGREEMENT_WIDGET_ALREADY_RENDERED: "하나의 약관 UI 위젯만을 사용할 수 있어요.",
    NOT_SELECTED_PAYMENT_METHOD: "결제수단이 아직 선택되지 않았어요. 결제수단을 선택해 주세요.",
    NEED_AGREEMENT_WITH_REQUIRED_TERMS: "필수 약관에 동의해주세요.",
    PAYMENT_REQUEST_ABORTED: "결제 요청이 중단되었습니다.",
    POPUP_BLOCKED: "결제창 팝업이 차단되었습니다."
  };

  function tossError(code, detail) {
    var error = new Error(detail ? MESSAGES[code] + " (" + detail + ")" : MESSAGES[code] || code);
    error.code = code;
    error.name = "TossPaymentsError";
    return error;
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // Parameters the SDK does not define are an error (INVALID_PARAMETERS), so typos surface.
  function checkParams(params, allowed) {
    if (!isObject(params)) {
      throw parametersError("요청 파라미터는 객체여야 합니다.");
    }
    Object.keys(params).forEach(function (name) {
      if (allowed.indexOf(name) < 0) {
        throw parametersError("정의되지 않은 파라미터입니다: " + name);
      }
    });
  }

  function parametersError(message) {
    var error = new Error(message);
    error.code = "INVALID_PARAMETERS";
    error.name = "TossPaymentsError";
    return error;
  }

  function checkAmount(amount) {
    if (!isObject(amount)) {
      throw parametersError("amount는 {currency, value} 객체여야 합니다.");
    }
    if (typeof amount.value !== "number" || !isFinite(amount.value)) {
      throw tossError("INVALID_AMOUNT_VALUE");
    }
    if (amount.value <= 0) {
      throw tossError("BELOW_ZERO_AMOUNT");
    }
    if (CURRENCIES.indexOf(amount.currency) < 0) {
      throw tossError("INVALID_AMOUNT_CURRENCY");
    }
    return { value: amount.value, currency: amount.currency };
  }

  function checkOrder(params) {
    if (!ORDER_ID.test(String(params.orderId || ""))) {
      throw parametersError("orderId는 영문 대소문자, 숫자, -, _, =로 6자 이상 64자 이하여야 합니다.");
    }
    if (!params.orderName || String(params.orderName).length > 100) {
      throw parametersError("orderName은 1자 이상 100자 이하여야 합니다.");
    }
    if (params.metadata !== undefined && params.metadata !== null) {
      var keys = isObject(params.metadata) ? Object.keys(params.metadata) : null;
      if (!keys || keys.length > 5 || keys.some(function (key) {
        return key.length > 40 || /[\[\]]/.test(key) || String(params.metadata[key]).length > 2000;
      })) {
        throw tossError("INVALID_METADATA");
      }
    }
  }

  function isWebUrl(value) {
    try {
      var url = new URL(String(value));
      return url.protocol === "http:" || url.protocol === "https:";
    } catch (e) {
      return false;
    }
  }

  // Redirect mode when successUrl and failUrl are given (absolute URLs), promise mode otherwise.
  function returnUrls(params, redirectOnly) {
    var hasSuccess = params.successUrl !== undefined && params.successUrl !== null;
    var hasFail = params.failUrl !== undefined && params.failUrl !== null;
    if (!hasSuccess && !hasFail) {
      if (redirectOnly) {
        throw parametersError("successUrl과 failUrl은 필수 파라미터입니다.");
      }
      if (params.windowTarget === "self") {
        throw tossError("NOT_SUPPORTED_PROMISE");
      }
      return null;
    }
    if (!hasSuccess || !isWebUrl(params.successUrl)) {
      throw tossError("INCORRECT_SUCCESS_URL_FORMAT");
    }
    if (!hasFail || !isWebUrl(params.failUrl)) {
      throw tossError("INCORRECT_FAIL_URL_FORMAT");
    }
    return { successUrl: String(params.successUrl), failUrl: String(params.failUrl) };
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

  // One request at a time per SDK instance (INVALID_METHOD_TRANSACTION otherwise).
  function Session() {
    this.busy = false;
    this.popup = null;
    this.abort = null;
  }

  Session.prototype.run = function (path, query, urls) {
    var session = this;
    if (session.busy) {
      return Promise.reject(tossError("INVALID_METHOD_TRANSACTION"));
    }
    if (urls) {
      query.successUrl = urls.successUrl;
      query.failUrl = urls.failUrl;
      // The page leaves for the window; this promise never settles, as with the real SDK.
      window.location.assign(windowUrl(path, query));
      return new Promise(function () {});
    }
    query.mode = "popup";
    query.opener = window.location.origin;
    session.busy = true;
    return new Promise(function (resolve, reject) {
      var popup = window.open(windowUrl(path, query), "tosspayments", "width=480,height=760");
      if (!popup) {
        session.busy = false;
        reject(tossError("POPUP_BLOCKED"));
        return;
      }
      session.popup = popup;
      var settled = false;
      function finish() {
        settled = true;
        session.busy = false;
        session.popup = null;
        session.abort = null;
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
          var error = new Error(data.error.message);
          error.code = data.error.code === "PAY_PROCESS_CANCELED" ? "USER_CANCEL" : data.error.code;
          error.name = "TossPaymentsError";
          reject(error);
        } else {
          resolve(data.result);
        }
      }
      session.abort = function () {
        finish();
        popup.close();
        reject(tossError("PAYMENT_REQUEST_ABORTED"));
      };
      window.addEventListener("message", onMessage);
      var watch = setInterval(function () {
        if (popup.closed && !settled) {
          // Give a message posted just before closing the chance to arrive first.
          setTimeout(function () {
            if (!settled) {
              finish();
              reject(tossError("USER_CANCEL"));
            }
          }, 300);
        }
      }, 200);
    });
  };

  Session.prototype.destroy = function () {
    if (this.abort) {
      this.abort();
    }
    return Promise.resolve();
  };

  function paymentQuery(clientKey, method, amount, params) {
    var query = {
      clientKey: clientKey,
      method: method,
      amount: amount.value,
      currency: amount.currency,
      orderId: params.orderId,
      orderName: params.orderName,
      customerName: params.customerName,
      customerEmail: params.customerEmail,
      taxFreeAmount: params.taxFreeAmount
    };
    var account = params.virtualAccount;
    if (method === "VIRTUAL_ACCOUNT" && isObject(account)) {
      query.validHours = account.validHours;
      query.dueDate = account.dueDate;
    }
    return query;
  }

  function checkCustomerKey(customerKey) {
    if (typeof customerKey === "string" && SECRET_KEY.test(customerKey)) {
      throw tossError("INSECURE_KEY_USAGE");
    }
    if (customerKey !== ANONYMOUS && !CUSTOMER_KEY.test(String(customerKey || ""))) {
      throw tossError("INVALID_CUSTOMER_KEY");
    }
    return customerKey;
  }

  function checkClientKey(clientKey, widget) {
    if (typeof clientKey === "string" && SECRET_KEY.test(clientKey)) {
      throw tossError("INSECURE_KEY_USAGE");
    }
    if (!CLIENT_KEY.test(String(clientKey || ""))) {
      throw tossError("INVALID_CLIENT_KEY");
    }
    if (widget && !WIDGET_KEY.test(clientKey)) {
      throw tossError("NOT_SUPPORTED_API_INDIVIDUAL_KEY");
    }
    if (!widget && WIDGET_KEY.test(clientKey)) {
      throw tossError("NOT_SUPPORTED_WIDGET_KEY");
    }
  }

  function attempt(fn) {
    try {
      return fn();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // -- the payment window: payment({customerKey}) ---------------------------------------------

  function payment(clientKey, customerKey) {
    var session = new Session();
    return {
      requestPayment: function (params) {
        return attempt(function () {
          checkParams(params, PAYMENT_PARAMS);
          if (ALL_METHODS.indexOf(params.method) < 0) {
            throw parametersError("method는 CARD, VIRTUAL_ACCOUNT, TRANSFER, ... 중 하나여야 합니다.");
          }
          if (WINDOW_METHODS.indexOf(params.method) < 0) {
            throw tossError("NOT_SUPPORTED_METHOD", "가짜 결제창은 CARD와 VIRTUAL_ACCOUNT만 받습니다");
          }
          var amount = checkAmount(params.amount);
          checkOrder(params);
          var urls = returnUrls(params, false);
          return session.run("/window", paymentQuery(clientKey, params.method, amount, params), urls);
        });
      },
      requestBillingAuth: function (params) {
        return attempt(function () {
          checkParams(params, BILLING_PARAMS);
          if (params.method !== "CARD" && params.method !== "TRANSFER") {
            throw parametersError("method는 CARD 또는 TRANSFER여야 합니다.");
          }
          if (params.method !== "CARD") {
            throw tossError("NOT_SUPPORTED_METHOD", "가짜 자동결제는 CARD만 받습니다");
          }
          if (customerKey === ANONYMOUS) {
            throw tossError("INVALID_CUSTOMER_KEY", "비회원은 자동결제를 등록할 수 없습니다");
          }
          var query = {
            clientKey: clientKey,
            customerKey: customerKey,
            customerName: params.customerName,
            customerEmail: params.customerEmail
          };
          return session.run("/billing-window", query, returnUrls(params, true));
        });
      },
      destroy: function () {
        return session.destroy();
      }
    };
  }

  // -- the payment widget: widgets({customerKey}) ---------------------------------------------

  var widgetCount = 0;

  // An iframe of the fake in the shop's element; its messages come back through on(message).
  function Frame(path, element, query, onMessage) {
    var frame = this;
    widgetCount += 1;
    frame.id = "w" + widgetCount + "_" + Math.random().toString(36).slice(2, 8);
    frame.iframe = document.createElement("iframe");
    frame.iframe.src = windowUrl(path, Object.assign({ widgetId: frame.id }, query));
    frame.iframe.title = query.title;
    frame.iframe.style.cssText = "display:block;width:100%;border:0;height:" + query.height + "px";
    frame.listener = function (event) {
      var data = event.data;
      if (event.origin !== ORIGIN || !data || data.source !== "fake_toss_widget") {
        return;
      }
      if (data.widgetId === frame.id) {
        onMessage(data);
      }
    };
    window.addEventListener("message", frame.listener);
    element.innerHTML = "";
    element.appendChild(frame.iframe);
  }

  Frame.prototype.destroy = function () {
    window.removeEventListener("message", this.listener);
    if (this.iframe.parentNode) {
      this.iframe.parentNode.removeChild(this.iframe);
    }
  };

  function elementOf(selector) {
    var element = typeof selector === "string" ? document.querySelector(selector) : null;
    if (!element) {
      throw tossError("INVALID_SELECTOR");
    }
    return element;
  }

  function listeners() {
    var handlers = {};
    return {
      on: function (name, allowed, callback) {
        if (allowed.indexOf(name) < 0 || typeof callback !== "function") {
          var error = new Error("허용하지 않는 이벤트이거나 콜백 함수가 올바르지 않습니다.");
          error.code = "INVALID_PARAMETER";
          throw error;
        }
        (handlers[name] = handlers[name] || []).push(callback);
      },
      emit: function (name, value) {
        (handlers[name] || []).forEach(function (callback) {
          callback(value);
        });
      }
    };
  }

  function widgets(clientKey, customerKey) {
    var session = new Session();
    var state = { amount: null, methods: null, agreement: null, selected: null, agreed: true };

    function render(kind, params, variants, path, title, onMessage) {
      return attempt(function () {
        checkParams(params, ["selector", "variantKey"]);
        if (!state.amount) {
          throw tossError("NOT_SETUP_AMOUNT");
        }
        if (state[kind]) {
          throw tossError(kind === "methods"
            ? "PAYMENT_METHODS_WIDGET_ALREADY_RENDERED" : "AGREEMENT_WIDGET_ALREADY_RENDERED");
        }
        var variantKey = params.variantKey === undefined ? variants[0] : params.variantKey;
        if (variants.indexOf(variantKey) < 0) {
          throw tossError("INVALID_VARIANT_KEY");
        }
        var element = elementOf(params.selector);
        return new Promise(function (resolve) {
          var events = listeners();
          var frame = new Frame(path, element, {
            clientKey: clientKey,
            currency: state.amount.currency,
            variantKey: variantKey,
            title: title,
            height: kind === "methods" ? 150 : 56
          }, function (data) {
            if (data.type === "ready") {
              resolve(widget);
            }
            onMessage(data, events);
          });
          var widget = {
            on: function (name, callback) {
              events.on(name, kind === "methods" ? ["paymentMethodSelect"] : ["agreementStatusChange"], callback);
            },
            destroy: function () {
              frame.destroy();
              state[kind] = null;
              if (kind === "methods") {
                state.selected = null;
              } else {
                state.agreed = true;
              }
              return Promise.resolve();
            }
          };
          if (kind === "methods") {
            widget.getSelectedPaymentMethod = function () {
              return Promise.resolve(state.selected ? { code: state.selected } : null);
            };
          }
          state[kind] = widget;
        });
      });
    }

    return {
      setAmount: function (amount) {
        return attempt(function () {
          state.amount = checkAmount(amount);
          return Promise.resolve();
        });
      },
      renderPaymentMethods: function (params) {
        return render("methods", params, ["DEFAULT"], "/widget/payment-methods", "결제수단",
          function (data, events) {
            if (data.type === "ready" || data.type === "paymentMethodSelect") {
              var changed = data.code !== state.selected;
              state.selected = data.code || null;
              if (data.type === "paymentMethodSelect" && changed) {
                events.emit("paymentMethodSelect", { code: state.selected });
              }
            }
          });
      },
      renderAgreement: function (params) {
        return render("agreement", params, ["AGREEMENT"], "/widget/agreement", "약관 동의",
          function (data, events) {
            if (data.type === "ready" || data.type === "agreementStatusChange") {
              state.agreed = Boolean(data.agreedRequiredTerms);
              if (data.type === "agreementStatusChange") {
                events.emit("agreementStatusChange", {
                  agreedRequiredTerms: state.agreed,
                  agreements: [{ term: { id: "fake-terms", required: true }, agreed: state.agreed }]
                });
              }
            }
          });
      },
      requestPayment: function (params) {
        return attempt(function () {
          checkParams(params, WIDGET_PARAMS);
          if (!state.amount) {
            throw tossError("NOT_SETUP_AMOUNT");
          }
          if (!state.methods || !state.selected) {
            throw tossError("NOT_SELECTED_PAYMENT_METHOD");
          }
          if (!state.agreed) {
            throw tossError("NEED_AGREEMENT_WITH_REQUIRED_TERMS");
          }
          checkOrder(params);
          var urls = returnUrls(params, false);
          return session.run("/window", paymentQuery(clientKey, state.selected, state.amount, params), urls);
        });
      }
    };
  }

  function v1Only() {
    throw tossError("V1_METHOD_NOT_SUPPORTED");
  }

  function TossPayments(clientKey) {
    return {
      payment: function (params) {
        checkClientKey(clientKey, false);
        checkParams(params, ["customerKey"]);
        return payment(clientKey, checkCustomerKey(params.customerKey));
      },
      widgets: function (params) {
        checkClientKey(clientKey, true);
        checkParams(params, ["customerKey", "brandpay"]);
        return widgets(clientKey, checkCustomerKey(params.customerKey));
      },
      brandpay: function () {
        checkClientKey(clientKey, false);
        throw tossError("NOT_SUPPORTED_METHOD", "가짜 SDK에는 브랜드페이가 없습니다");
      },
      requestPayment: v1Only,
      requestBillingAuth: v1Only
    };
  }

  TossPayments.ANONYMOUS = ANONYMOUS;
  window.TossPayments = TossPayments;
})();
