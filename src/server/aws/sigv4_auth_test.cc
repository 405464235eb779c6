// SigV4 verification of Data API requests: one correctly signed request, and a table of
// tampered variants, each refused with the AWS error a client expects.
#include "server/aws/sigv4_auth.h"

#include <gtest/gtest.h>

#include <strings.h>

#include <functional>

#include "core/sigv4.h"

namespace fleetlog {
namespace {

class FixedClock final : public Clock {
 public:
  Timestamp Now() const override { return now; }
  Timestamp now = *ParseTimestamp("2026-12-01 12:00:00");
};

constexpr const char* kKeyId = "AKIAFLEETLOGTEST0001";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct Signing {
  std::string body = R"({"Sql":"select 1","Database":"dev"})";
  std::string target = "RedshiftData.ExecuteStatement";
  std::string path = "/";
  std::string key_id = kKeyId;
  std::string secret = kSecret;
  std::string region = "us-east-1";
  std::string service = "redshift-data";
  std::string amz_date = "20261201T120000Z";
};

// The request as the HTTP server hands it over: header_fields as received, headers from them.
void IndexHeaders(HttpRequest* r) {
  r->headers.clear();
  for (const auto& [k, v] : r->header_fields) r->headers[k] = v;
}

HttpRequest Signed(const Signing& s) {
  sigv4::Request r{.method = "POST", .path = s.path};
  r.headers = {{"Host", "127.0.0.1:8080"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", s.target}};
  r.payload_hash = sigv4::Sha256Hex(s.body);
  sigv4::Sign(&r, {.access_key_id = s.key_id, .secret_access_key = s.secret}, s.region, s.service, s.amz_date,
              sigv4::PathRule::kGeneric);
  HttpRequest p{.method = "POST", .path = s.path, .target = s.path, .header_fields = r.headers, .body = s.body};
  p.header_fields.emplace_back("amz-sdk-invocation-id", "added after signing, as clients do");
  IndexHeaders(&p);
  return p;
}

void SetHeader(HttpRequest* r, std::string_view name, const std::string& value) {
  for (auto& [k, v] : r->header_fields)
    if (strcasecmp(k.c_str(), std::string(name).c_str()) == 0) v = value;
  IndexHeaders(r);
}
void RemoveHeader(HttpRequest* r, std::string_view name) {
  std::erase_if(r->header_fields,
                [&](const auto& h) { return strcasecmp(h.first.c_str(), std::string(name).c_str()) == 0; });
  IndexHeaders(r);
}

class SigV4AuthTest : public ::testing::Test {
 protected:
  SigV4Authenticator Make(bool anonymous = false) {
    return SigV4Authenticator({{.name = "analyst", .access_key_id = kKeyId, .secret_access_key = kSecret, .workgroup = "small"}},
                              anonymous, "us-east-1", Duration::Minutes(5), &clock_);
  }
  FixedClock clock_;
};

TEST_F(SigV4AuthTest, AcceptsACorrectlySignedRequestAsItsKeysPrincipal) {
  auto auth = Make();
  Principal who;
  const auto error = auth.Verify(Signed({}), false, &who);
  ASSERT_FALSE(error) << error->code << ": " << error->message;
  EXPECT_EQ(who.name, "analyst");
  EXPECT_EQ(who.workgroup, "small");
}

TEST_F(SigV4AuthTest, AcceptsRequestsSignedAnywhereInsideTheClockSkewWindow) {
  auto auth = Make();
  Principal who;
  EXPECT_FALSE(auth.Verify(Signed({.amz_date = "20261201T115501Z"}), false, &who));
  EXPECT_FALSE(auth.Verify(Signed({.amz_date = "20261201T120459Z"}), false, &who));
}

TEST_F(SigV4AuthTest, RefusesEachTamperedRequest) {
  struct Case {
    const char* what;
    std::function<HttpRequest()> request;
    const char* code;
    int http;
  };
  const Case cases[] = {
      {"no Authorization header", [] { auto r = Signed({}); RemoveHeader(&r, "Authorization"); return r; },
       "MissingAuthenticationTokenException", 403},
      {"not a SigV4 Authorization header", [] { auto r = Signed({}); SetHeader(&r, "Authorization", "Basic dTpw"); return r; },
       "IncompleteSignatureException", 400},
      {"Authorization without a Signature", [] {
         auto r = Signed({});
         std::string a = r.get_header_value("Authorization");
         SetHeader(&r, "Authorization", a.substr(0, a.find(", Signature=")));
         return r; }, "IncompleteSignatureException", 400},
      {"an access key nobody configured", [] { return Signed({.key_id = "AKIAUNKNOWN000000000"}); },
       "UnrecognizedClientException", 400},
      {"a wrong secret", [] { return Signed({.secret = "not-the-secret"}); }, "InvalidSignatureException", 400},
      {"the body changed after signing", [] { auto r = Signed({}); r.body = R"({"Sql":"select 2","Database":"dev"})"; return r; },
       "InvalidSignatureException", 400},
      {"one byte of the body appended", [] { auto r = Signed({}); r.body += " "; return r; }, "InvalidSignatureException", 400},
      {"a signed header changed (the operation)", [] {
         auto r = Signed({});
         SetHeader(&r, "X-Amz-Target", "RedshiftData.CancelStatement");
         return r; }, "InvalidSignatureException", 400},
      {"the Host changed", [] { auto r = Signed({}); SetHeader(&r, "Host", "evil.example:8080"); return r; },
       "InvalidSignatureException", 400},
      {"the path changed", [] { auto r = Signed({}); r.target = "/other"; return r; }, "InvalidSignatureException", 400},
      {"a query string added", [] { auto r = Signed({}); r.target = "/?Action=x"; return r; }, "InvalidSignatureException", 400},
      {"a signed header repeated with another value", [] {
         auto r = Signed({});
         r.header_fields.emplace_back("X-Amz-Target", "RedshiftData.CancelStatement");
         IndexHeaders(&r);
         return r; }, "InvalidSignatureException", 400},
      {"a signed header removed", [] { auto r = Signed({}); RemoveHeader(&r, "Content-Type"); return r; },
       "InvalidSignatureException", 400},
      {"the signature's last digit changed", [] {
         auto r = Signed({});
         std::string a = r.get_header_value("Authorization");
         a.back() = a.back() == '0' ? '1' : '0';
         SetHeader(&r, "Authorization", a);
         return r; }, "InvalidSignatureException", 400},
      {"signed for another service", [] { return Signed({.service = "s3"}); }, "InvalidSignatureException", 400},
      {"signed for another region", [] { return Signed({.region = "eu-west-1"}); }, "InvalidSignatureException", 400},
      {"expired: signed 6 minutes ago", [] { return Signed({.amz_date = "20261201T115400Z"}); },
       "InvalidSignatureException", 400},
      {"not yet current: signed 6 minutes ahead", [] { return Signed({.amz_date = "20261201T120600Z"}); },
       "InvalidSignatureException", 400},
      {"X-Amz-Date moved after signing", [] { auto r = Signed({}); SetHeader(&r, "X-Amz-Date", "20261201T120001Z"); return r; },
       "InvalidSignatureException", 400},
      {"no X-Amz-Date", [] { auto r = Signed({}); RemoveHeader(&r, "X-Amz-Date"); return r; },
       "IncompleteSignatureException", 400},
      {"X-Amz-Date not in AWS's form", [] { auto r = Signed({}); SetHeader(&r, "X-Amz-Date", "2026-12-01T12:00:00Z"); return r; },
       "IncompleteSignatureException", 400},
  };
  auto auth = Make();
  for (const auto& c : cases) {
    Principal who;
    const auto error = auth.Verify(c.request(), false, &who);
    ASSERT_TRUE(error.has_value()) << c.what << ": accepted";
    EXPECT_EQ(error->code, c.code) << c.what << ": " << error->message;
    EXPECT_EQ(error->http_status, c.http) << c.what;
    EXPECT_EQ(error->message.find(kSecret), std::string::npos) << c.what;
  }
}

TEST_F(SigV4AuthTest, CheckHeadersRefusesWhatNeedsNoBodyBeforeItIsRead) {
  auto auth = Make();
  auto r = Signed({.key_id = "AKIAUNKNOWN000000000"});
  r.body.clear();  // not read yet
  ASSERT_TRUE(auth.CheckHeaders(r).has_value());
  EXPECT_EQ(auth.CheckHeaders(r)->code, "UnrecognizedClientException");
  EXPECT_FALSE(auth.CheckHeaders(Signed({})).has_value());
}

TEST_F(SigV4AuthTest, AReplayedExecuteWithoutClientTokenIsRefusedButPollingMayRepeat) {
  auto auth = Make();
  Principal who;
  const HttpRequest execute = Signed({});
  EXPECT_FALSE(auth.Verify(execute, /*replay_sensitive=*/true, &who));
  const auto replay = auth.Verify(execute, true, &who);
  ASSERT_TRUE(replay.has_value());
  EXPECT_EQ(replay->code, "InvalidSignatureException");
  const HttpRequest describe = Signed({.body = R"({"Id":"x"})", .target = "RedshiftData.DescribeStatement"});
  EXPECT_FALSE(auth.Verify(describe, false, &who));
  EXPECT_FALSE(auth.Verify(describe, false, &who));
  // Once the original is outside the window, it is refused as expired, not remembered.
  clock_.now = clock_.now + Duration::Minutes(6);
  EXPECT_NE(auth.Verify(execute, true, &who)->message.find("expired"), std::string::npos);
}

TEST_F(SigV4AuthTest, AnonymousModeAcceptsAnyRequest) {
  auto auth = Make(/*anonymous=*/true);
  Principal who;
  auto r = Signed({.secret = "whatever"});
  EXPECT_FALSE(auth.Verify(r, true, &who));
  EXPECT_EQ(who.name, "anonymous");
  EXPECT_TRUE(who.workgroup.empty());
}

}  // namespace
}  // namespace fleetlog
