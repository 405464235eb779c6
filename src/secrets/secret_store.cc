#include "secrets/secret_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "core/fs.h"

namespace fleetlog {
namespace {

constexpr const char* kPrefix = "secret/";

Result<std::string> DecodeHexKey(std::string text, const std::string& where) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  size_t len = 0;
  if (text.size() != 2 * key.size() ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text.data(), text.size(), nullptr, &len,
                     nullptr) != 0 ||
      len != key.size())
    return InvalidArgument("{} must hold 64 hex digits (a 256-bit key); create one with `fleetlog init`", where);
  return key;
}

}  // namespace

Result<MasterKey> MasterKey::Load(const std::string& key_file) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  MasterKey k;
  if (const char* env = std::getenv("FLEETLOG_MASTER_KEY"); env && *env) {
    ASSIGN_OR_RETURN(k.key_, DecodeHexKey(env, "FLEETLOG_MASTER_KEY"));
    return k;
  }
  struct stat st{};
  if (::stat(key_file.c_str(), &st) != 0)
    return Error(StatusCode::kNotFound, "master key {} not found: run `fleetlog init`, or set FLEETLOG_MASTER_KEY", key_file);
  if ((st.st_mode & 077) != 0)
    return Error(StatusCode::kPermissionDenied, "master key {} is readable by others (mode {:o}): run chmod 600 {}", key_file,
                 st.st_mode & 0777, key_file);
  ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(key_file));
  ASSIGN_OR_RETURN(k.key_, DecodeHexKey(text, key_file));
  return k;
}

Status MasterKey::Create(const std::string& key_file) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  crypto_aead_xchacha20poly1305_ietf_keygen(key);
  char hex[2 * sizeof key + 1];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  sodium_memzero(key, sizeof key);
  std::string line = std::string(hex) + "\n";
  sodium_memzero(hex, sizeof hex);
  Env& env = *Env::Default();
  auto exists = env.FileExists(key_file);
  Status s = !exists.ok() ? exists.status()
             : *exists    ? Error(StatusCode::kAlreadyExists, "master key {} exists already", key_file)
                          : env.WriteFile(key_file, line, {.mode = 0600});
  sodium_memzero(line.data(), line.size());
  return s.WithContext("cannot create master key " + key_file);
}

Status SecretStore::Set(const std::string& name, const std::string& value) {
  std::string blob(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + value.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(blob.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen,
                                             reinterpret_cast<const unsigned char*>(value.data()), value.size(),
                                             reinterpret_cast<const unsigned char*>(name.data()), name.size(), nullptr,
                                             nonce, key_.data());
  return state_.PutValue(kPrefix + name, blob);
}

Result<std::string> SecretStore::Get(const std::string& name) {
  ASSIGN_OR_RETURN(auto blob, state_.GetValue(kPrefix + name));
  if (!blob)
    return Error(StatusCode::kNotFound, "secret \"{}\" is not in the secret store: add it with `fleetlog secrets set {}`",
                 name, name);
  const size_t header = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (blob->size() < header + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return Error(StatusCode::kCorruption, "secret \"{}\" is damaged; set it again", name);
  std::string value(blob->size() - header - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long len = 0;
  const auto* nonce = reinterpret_cast<const unsigned char*>(blob->data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(value.data()), &len, nullptr,
                                                 nonce + header, blob->size() - header,
                                                 reinterpret_cast<const unsigned char*>(name.data()), name.size(), nonce,
                                                 key_.data()) != 0)
    return Error(StatusCode::kCorruption,
                 "secret \"{}\" does not decrypt with this master key (was the key file replaced?); set it again", name);
  value.resize(len);
  return value;
}

Result<std::vector<std::string>> SecretStore::List() {
  ASSIGN_OR_RETURN(auto keys, state_.ListKeys(kPrefix));
  for (auto& k : keys) k = k.substr(std::strlen(kPrefix));
  return keys;
}

Status SecretStore::Delete(const std::string& name) {
  ASSIGN_OR_RETURN(auto blob, state_.GetValue(kPrefix + name));
  if (!blob) return Error(StatusCode::kNotFound, "secret \"{}\" is not in the secret store", name);
  return state_.DeleteValue(kPrefix + name);
}

}  // namespace fleetlog
