// SigV4 against AWS's published values: the Signature Version 4 test suite (credentials
// AKIDEXAMPLE, service "service", us-east-1, 20150830T123600Z) and the worked S3 examples of the
// S3 API reference ("Examples: Signature Calculations", AKIAIOSFODNN7EXAMPLE, 20130524).
#include "core/sigv4.h"

#include <gtest/gtest.h>

namespace fleetlog::sigv4 {
namespace {

const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const char kSuiteDate[] = "20150830T123600Z";
const Scope kSuiteScope{"20150830", "us-east-1", "service"};

Request MakeRequest(std::string method, std::string path, std::string raw_query, std::string host) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = ParseQuery(raw_query);
  request.headers = {{"Host", std::move(host)}};
  return request;
}

Request SuiteRequest(std::string method, std::string path, std::string raw_query = "") {
  Request request = MakeRequest(std::move(method), std::move(path), std::move(raw_query), "example.amazonaws.com");
  request.headers.emplace_back("X-Amz-Date", kSuiteDate);
  return request;
}

std::string SuiteSignature(const Request& request) {
  return Signature(request, kSuiteDate, kSuiteScope, kSuite.secret_access_key, PathRule::kGeneric);
}

TEST(SigV4Test, GetVanillaEveryStep) {
  Request request = SuiteRequest("GET", "/");
  std::string canonical = CanonicalRequest(request, PathRule::kGeneric);
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign(kSuiteDate, kSuiteScope, canonical),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(SuiteSignature(request), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, SignAddsTheAuthorizationHeader) {
  Request request;
  request.method = "GET";
  request.headers = {{"Host", "example.amazonaws.com"}};
  Sign(&request, kSuite, "us-east-1", "service", kSuiteDate, PathRule::kGeneric);
  ASSERT_EQ(request.headers.back().first, "Authorization");
  EXPECT_EQ(request.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

struct SuiteCase {
  const char* name;
  const char* method;
  const char* path;
  const char* query;
  const char* signature;
};

class SigV4SuiteTest : public testing::TestWithParam<SuiteCase> {};

TEST_P(SigV4SuiteTest, MatchesPublishedSignature) {
  const SuiteCase& c = GetParam();
  EXPECT_EQ(SuiteSignature(SuiteRequest(c.method, c.path, c.query)), c.signature) << c.name;
}

std::string SuiteCaseName(const testing::TestParamInfo<SuiteCase>& param_info) {
  std::string name = param_info.param.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

const std::string kUnreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const std::string kUnreservedPath = "/" + kUnreserved;
const std::string kUnreservedQuery = kUnreserved + "=" + kUnreserved;

INSTANTIATE_TEST_SUITE_P(
    AwsTestSuite, SigV4SuiteTest,
    testing::Values(
        SuiteCase{"get-vanilla-query", "GET", "/", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        SuiteCase{"get-vanilla-empty-query-key", "GET", "/", "Param1=value1",
                  "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
        SuiteCase{"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1",
                  "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
        SuiteCase{"get-vanilla-query-unreserved", "GET", "/", kUnreservedQuery.c_str(),
                  "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
        SuiteCase{"get-unreserved", "GET", kUnreservedPath.c_str(), "",
                  "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
        SuiteCase{"get-utf8", "GET", "/\xE1\x88\xB4", "",
                  "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
        SuiteCase{"get-space", "GET", "/example space/", "",
                  "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
        SuiteCase{"normalize-path/get-slash", "GET", "//", "",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        SuiteCase{"normalize-path/get-slashes", "GET", "//example//", "",
                  "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
        SuiteCase{"normalize-path/get-relative-relative", "GET", "/example1/example2/../..", "",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        SuiteCase{"normalize-path/get-slash-pointless-dot", "GET", "/./example", "",
                  "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
        SuiteCase{"post-vanilla", "POST", "/", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        SuiteCase{"post-vanilla-query", "POST", "/", "Param1=value1",
                  "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"}),
    SuiteCaseName);

TEST(SigV4Test, HeaderValuesTrimmedAndCollapsed) {  // get-header-value-trim
  Request request = SuiteRequest("GET", "/");
  request.headers.emplace_back("My-Header1", " value1");
  request.headers.emplace_back("My-Header2", " \"a   b   c\"");
  EXPECT_EQ(SuiteSignature(request), "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

// A header sent more than once is signed as its values joined with ',' in the order received,
// which is why a verifier needs every header field as received, not one value per name.
TEST(SigV4Test, RepeatedHeadersJoinedInOrder) {  // get-header-key-duplicate, get-header-value-order
  Request duplicate = SuiteRequest("GET", "/");
  for (const char* v : {"value2", "value2", "value1"}) duplicate.headers.emplace_back("My-Header1", v);
  EXPECT_EQ(SuiteSignature(duplicate), "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
  Request order = SuiteRequest("GET", "/");
  for (const char* v : {"value4", "value1", "value3", "value2"}) order.headers.emplace_back("My-Header1", v);
  EXPECT_EQ(SuiteSignature(order), "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01");
}

TEST(SigV4Test, FormBody) {  // post-x-www-form-urlencoded
  Request request = SuiteRequest("POST", "/");
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.payload_hash = Sha256Hex("Param1=value1");
  EXPECT_EQ(SuiteSignature(request), "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4Test, SessionTokenIsSigned) {  // post-sts-token/post-sts-header-after
  Credentials credentials = kSuite;
  credentials.session_token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8Y"
      "UuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6f"
      "E8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQ"
      "wj2ICCR/oLxBA==";
  Request request;
  request.method = "POST";
  request.headers = {{"Host", "example.amazonaws.com"}};
  Sign(&request, credentials, "us-east-1", "service", kSuiteDate, PathRule::kGeneric);
  EXPECT_TRUE(request.headers.back().second.ends_with(
      "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"))
      << request.headers.back().second;
}

// The S3 API reference's worked examples.
const Credentials kS3Example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

Request S3ExampleRequest(std::string method, std::string path, std::string raw_query = "") {
  return MakeRequest(std::move(method), std::move(path), std::move(raw_query), "examplebucket.s3.amazonaws.com");
}

std::string S3ExampleSignature(Request request) {
  Sign(&request, kS3Example, "us-east-1", "s3", "20130524T000000Z", PathRule::kS3);
  const std::string& header = request.headers.back().second;
  return header.substr(header.find("Signature=") + 10);
}

TEST(SigV4S3Test, GetObjectWithRange) {
  Request request = S3ExampleRequest("GET", "/test.txt");
  request.headers.emplace_back("Range", "bytes=0-9");
  Request signed_copy = request;
  Sign(&signed_copy, kS3Example, "us-east-1", "s3", "20130524T000000Z", PathRule::kS3);
  signed_copy.headers.pop_back();  // the Authorization header is not signed
  std::string canonical = CanonicalRequest(signed_copy, PathRule::kS3);
  EXPECT_EQ(canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign("20130524T000000Z", {"20130524", "us-east-1", "s3"}, canonical),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(S3ExampleSignature(request), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Test, PutObject) {
  Request request = S3ExampleRequest("PUT", "/test%24file.text");
  request.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  request.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  request.payload_hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(request.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(S3ExampleSignature(request), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Test, BucketLifecycleAndListObjects) {
  EXPECT_EQ(S3ExampleSignature(S3ExampleRequest("GET", "/", "lifecycle")),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  EXPECT_EQ(S3ExampleSignature(S3ExampleRequest("GET", "/", "max-keys=2&prefix=J")),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3Test, PathEncodedOnceNeverNormalised) {
  // Hive keys: '=' must be %3D; a raw key and its encoded form sign the same.
  EXPECT_EQ(CanonicalUri("/b/stl_query/cluster=a/dt=2026-01-01/x y.parquet", PathRule::kS3),
            "/b/stl_query/cluster%3Da/dt%3D2026-01-01/x%20y.parquet");
  EXPECT_EQ(CanonicalUri("/b/cluster%3Da/x", PathRule::kS3), "/b/cluster%3Da/x");
  EXPECT_EQ(CanonicalUri("/b/a//./c", PathRule::kS3), "/b/a//./c");
  EXPECT_EQ(CanonicalUri("/a//./c/../d", PathRule::kGeneric), "/a/d");
  EXPECT_EQ(CanonicalUri("/%41", PathRule::kGeneric), "/%2541");  // other services: encoded twice
}

TEST(SigV4Test, QueryEncodingAndOrder) {
  EXPECT_EQ(CanonicalQueryString(ParseQuery("prefix=a%2Fb&list-type=2&continuation-token=x+y%3D")),
            "continuation-token=x%2By%3D&list-type=2&prefix=a%2Fb");
  EXPECT_EQ(CanonicalQueryString(ParseQuery("uploads")), "uploads=");
}

TEST(SigV4VerifyTest, AcceptsWhatSignSigns) {
  Request request;
  request.method = "POST";
  request.headers = {{"Host", "127.0.0.1:8080"}, {"X-Amz-Target", "RedshiftData.ExecuteStatement"}};
  request.payload_hash = Sha256Hex("{\"Sql\":\"select 1\"}");
  Request sent = request;
  Sign(&sent, kSuite, "us-east-1", "redshift-data", kSuiteDate, PathRule::kGeneric);
  auto auth = ParseAuthorization(sent.headers.back().second);
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(auth->scope.service, "redshift-data");
  // The receiver sees every header, including unsigned ones, in any case.
  Request received = sent;
  received.headers.emplace_back("User-Agent", "aws-cli/2.9");
  received.headers[0].first = "HOST";
  EXPECT_TRUE(Verify(received, *auth, kSuite.secret_access_key, "20150830T124000Z").ok());

  EXPECT_EQ(Verify(received, *auth, "wrong-secret", kSuiteDate).code(), StatusCode::kPermissionDenied);
  Request tampered = received;
  tampered.payload_hash = Sha256Hex("{\"Sql\":\"drop table x\"}");
  EXPECT_EQ(Verify(tampered, *auth, kSuite.secret_access_key, kSuiteDate).code(), StatusCode::kPermissionDenied);
  tampered = received;
  tampered.headers[1].second = "RedshiftData.CancelStatement";
  EXPECT_EQ(Verify(tampered, *auth, kSuite.secret_access_key, kSuiteDate).code(), StatusCode::kPermissionDenied);
  // Too old and too far in the future.
  EXPECT_EQ(Verify(received, *auth, kSuite.secret_access_key, "20150830T130100Z").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Verify(received, *auth, kSuite.secret_access_key, "20150830T121000Z").code(),
            StatusCode::kPermissionDenied);
}

TEST(SigV4VerifyTest, RefusesUnsignedHostOrDate) {
  auto auth = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_TRUE(auth.ok());
  Request request = SuiteRequest("GET", "/");
  EXPECT_EQ(Verify(request, *auth, kSuite.secret_access_key, kSuiteDate).code(), StatusCode::kPermissionDenied);
  // The suite's own get-vanilla verifies.
  auth = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(Verify(request, *auth, kSuite.secret_access_key, kSuiteDate).ok());
  // A scope date other than the request's.
  auth->scope.date = "20150829";
  EXPECT_EQ(Verify(request, *auth, kSuite.secret_access_key, kSuiteDate).code(), StatusCode::kPermissionDenied);
}

TEST(SigV4VerifyTest, MalformedAuthorizationHeaders) {
  for (const char* header : {
           "",
           "AWS4-HMAC-SHA256",
           "AWS AKIDEXAMPLE:abc",
           "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
           "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host, "
           "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
           "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host, "
           "Signature=xyz",
       }) {
    EXPECT_EQ(ParseAuthorization(header).status().code(), StatusCode::kInvalidArgument) << header;
  }
}

}  // namespace
}  // namespace fleetlog::sigv4
