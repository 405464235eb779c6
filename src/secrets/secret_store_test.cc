#include "secrets/secret_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "test_util.h"

namespace fleetlog {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("FLEETLOG_MASTER_KEY");
    auto state = OpenSqliteStateStore(dir_.Sub("fleetlog.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    state_ = std::move(state).value();
    ASSERT_TRUE(MasterKey::Create(key_file_).ok());
  }

  MasterKey Key(const std::string& file) {
    auto key = MasterKey::Load(file);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return std::move(key).value();
  }

  test::TempDir dir_;
  std::string key_file_ = dir_.Sub("fleetlog.key");
  std::unique_ptr<StateStore> state_;
};

TEST_F(SecretStoreTest, KeyFileIsCreatedWithMode0600AndNotOverwritten) {
  struct stat st {};
  ASSERT_EQ(::stat(key_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto text = test::ReadWholeFile(key_file_);
  ASSERT_TRUE(text.has_value());
  EXPECT_THAT(*text, ::testing::MatchesRegex("[0-9a-f]{64}\n"));
  EXPECT_FALSE(MasterKey::Create(key_file_).ok());
  EXPECT_EQ(*test::ReadWholeFile(key_file_), *text);
}

TEST_F(SecretStoreTest, EncryptsAndDecrypts) {
  SecretStore secrets(*state_, Key(key_file_));
  const std::string value = "p\xC3\xA4ss w0rd\n\x01 with 'quotes'";
  ASSERT_TRUE(secrets.Set("product-warehouse", value).ok());
  auto got = secrets.Get("product-warehouse");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, value);
  // At rest it is neither the value nor the same bytes twice.
  auto blob = state_->GetValue("secret/product-warehouse");
  ASSERT_TRUE(blob.ok() && blob->has_value());
  EXPECT_THAT(**blob, Not(HasSubstr("w0rd")));
  ASSERT_TRUE(secrets.Set("product-warehouse", value).ok());
  EXPECT_NE(**state_->GetValue("secret/product-warehouse"), **blob);
  EXPECT_EQ(*secrets.Get("product-warehouse"), value);

  ASSERT_TRUE(secrets.Set("empty", "").ok());
  EXPECT_EQ(*secrets.Get("empty"), "");
  EXPECT_EQ(*secrets.List(), (std::vector<std::string>{"empty", "product-warehouse"}));
  ASSERT_TRUE(secrets.Delete("empty").ok());
  EXPECT_EQ(secrets.Get("empty").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(secrets.Delete("empty").code(), StatusCode::kNotFound);
  EXPECT_EQ(*secrets.List(), (std::vector<std::string>{"product-warehouse"}));
}

TEST_F(SecretStoreTest, WrongKeyIsCorruptionAndDoesNotLeakTheValue) {
  ASSERT_TRUE(SecretStore(*state_, Key(key_file_)).Set("pw", "hunter2").ok());
  const std::string other = dir_.Sub("other.key");
  ASSERT_TRUE(MasterKey::Create(other).ok());
  auto got = SecretStore(*state_, Key(other)).Get("pw");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(got.status().message(), Not(HasSubstr("hunter2")));
}

TEST_F(SecretStoreTest, ValueIsBoundToItsName) {
  SecretStore secrets(*state_, Key(key_file_));
  ASSERT_TRUE(secrets.Set("a", "alpha").ok());
  // Move the ciphertext of "a" under the name "b": it must not decrypt there.
  ASSERT_TRUE(state_->PutValue("secret/b", **state_->GetValue("secret/a")).ok());
  auto got = secrets.Get("b");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(*secrets.Get("a"), "alpha");
}

TEST_F(SecretStoreTest, TamperedOrTruncatedBlobIsCorruption) {
  SecretStore secrets(*state_, Key(key_file_));
  ASSERT_TRUE(secrets.Set("a", "alpha").ok());
  std::string blob = **state_->GetValue("secret/a");
  blob.back() = static_cast<char>(blob.back() ^ 1);
  ASSERT_TRUE(state_->PutValue("secret/a", blob).ok());
  EXPECT_EQ(secrets.Get("a").status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(state_->PutValue("secret/a", "short").ok());
  EXPECT_EQ(secrets.Get("a").status().code(), StatusCode::kCorruption);
}

TEST_F(SecretStoreTest, KeyFileReadableByOthersIsRefused) {
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(key_file_.c_str(), mode), 0);
    auto key = MasterKey::Load(key_file_);
    ASSERT_FALSE(key.ok()) << std::oct << mode;
    EXPECT_EQ(key.status().code(), StatusCode::kPermissionDenied);
    EXPECT_THAT(key.status().message(), HasSubstr("chmod 600"));
  }
  ASSERT_EQ(::chmod(key_file_.c_str(), 0400), 0);
  EXPECT_TRUE(MasterKey::Load(key_file_).ok());
}

TEST_F(SecretStoreTest, MissingOrMalformedKey) {
  EXPECT_EQ(MasterKey::Load(dir_.Sub("nope.key")).status().code(), StatusCode::kNotFound);
  const std::string bad = dir_.Sub("bad.key");
  ASSERT_TRUE(test::WriteFile(bad, "not hex\n"));
  ASSERT_EQ(::chmod(bad.c_str(), 0600), 0);
  EXPECT_EQ(MasterKey::Load(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SecretStoreTest, EnvironmentKeyWinsOverTheFile) {
  const std::string hex = *test::ReadWholeFile(key_file_);
  ASSERT_TRUE(SecretStore(*state_, Key(key_file_)).Set("pw", "v").ok());
  ::setenv("FLEETLOG_MASTER_KEY", hex.substr(0, 64).c_str(), 1);
  auto key = MasterKey::Load(dir_.Sub("nope.key"));
  ::setenv("FLEETLOG_MASTER_KEY", "zz", 1);
  auto bad = MasterKey::Load(key_file_);
  ::unsetenv("FLEETLOG_MASTER_KEY");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*SecretStore(*state_, std::move(key).value()).Get("pw"), "v");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleetlog
