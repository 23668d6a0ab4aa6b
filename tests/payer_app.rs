//! The kind offered to a payer, from real `User-Agent` strings of the apps Chinese payers use
//! (as the apps send them; collected from public UA listings), for a merchant with JSAPI set
//! up and one without.

use xorpay::pay_type::RequestKind::{self, Alipay, Cashier, Jsapi, Native};
use xorpay::payer::{MerchantSetup, PayerApp, kind_for};

/// (what, User-Agent, the kind with JSAPI set up, the kind without).
const TABLE: &[(&str, &str, RequestKind, RequestKind)] = &[
    (
        "WeChat on an iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN",
        Jsapi,
        Cashier,
    ),
    (
        "WeChat on Android",
        "Mozilla/5.0 (Linux; Android 13; V2055A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110017 MMWEBSDK/20230805 MMWEBID/5817 MicroMessenger/8.0.42.2460(0x28002A35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
        Jsapi,
        Cashier,
    ),
    (
        "WeChat for Windows",
        "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x6309071d) XWEB/8461 Flue",
        Jsapi,
        Cashier,
    ),
    (
        "WeCom on an iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.10 MicroMessenger/7.0.1 Language/zh ColorScheme/Light",
        Jsapi,
        Cashier,
    ),
    (
        "Alipay on Android",
        "Mozilla/5.0 (Linux; U; Android 10; zh-CN; V1838A Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.43 Mobile Safari/537.36 UCBS/3.22.2.43_220223200704 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:393|0|2.75) AliApp(AP/10.2.60.8000) AlipayClient/10.2.60.8000 Language/zh-Hans useStatusBar/true isConcaveScreen/true Region/CN",
        Alipay,
        Alipay,
    ),
    (
        "Alipay on an iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Ariver/1.1.0 AliApp(AP/10.5.36.6000) Nebula WK RVKType(0) AlipayDefined(nt:WIFI,ws:390|780|3.0) AlipayClient/10.5.36.6000 Language/zh-Hans Region/CN NebulaX/1.0.0",
        Alipay,
        Alipay,
    ),
    (
        "Safari on an iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        Alipay,
        Alipay,
    ),
    (
        "Chrome on Android",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        Alipay,
        Alipay,
    ),
    (
        "QQ Browser on Android",
        "Mozilla/5.0 (Linux; U; Android 12; zh-cn; PFUM10 Build/SKQ1.220617.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 MQQBrowser/14.9 Mobile Safari/537.36",
        Alipay,
        Alipay,
    ),
    (
        "Chrome on Windows",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        Native,
        Native,
    ),
    (
        "Safari on a Mac",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        Native,
        Native,
    ),
    (
        "Firefox on Linux",
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        Native,
        Native,
    ),
    ("no User-Agent at all", "", Native, Native),
];

#[test]
fn each_app_gets_the_kind_it_can_pay_with() {
    for (what, user_agent, with_jsapi, without) in TABLE {
        assert_eq!(
            kind_for(user_agent, MerchantSetup::JSAPI),
            *with_jsapi,
            "{what}, JSAPI set up"
        );
        assert_eq!(
            kind_for(user_agent, MerchantSetup::NO_JSAPI),
            *without,
            "{what}, no JSAPI"
        );
    }
}

#[test]
fn the_app_is_told_apart_from_the_phone_it_runs_on() {
    let app = |what: &str| {
        let (_, user_agent, ..) = TABLE.iter().find(|row| row.0 == what).unwrap();
        PayerApp::from_user_agent(user_agent)
    };
    assert_eq!(app("WeChat on Android"), PayerApp::WeChat);
    assert_eq!(app("WeCom on an iPhone"), PayerApp::WeChat);
    assert_eq!(app("Alipay on an iPhone"), PayerApp::Alipay);
    assert_eq!(app("Safari on an iPhone"), PayerApp::PhoneBrowser);
    assert_eq!(app("Chrome on Windows"), PayerApp::Desktop);
}
