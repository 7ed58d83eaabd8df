// Pure parts of ates-auth's hardening (ADR 16): client addresses, sealed
// signing keys, the Argon2 gate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "client_address.hpp"
#include "key_sealer.hpp"
#include "password_gate.hpp"

namespace ates::auth {
namespace {

using ::testing::HasSubstr;

// 32 bytes each, standard base64.
constexpr const char* kKeyA = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=";
constexpr const char* kKeyB = "YmVuY2gta2V5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=";

TEST(ClientAddress, PeerWithoutPort) {
  EXPECT_EQ(AddressFromPeer("ipv4:10.0.0.7:51234"), "10.0.0.7");
  EXPECT_EQ(AddressFromPeer("ipv6:[::1]:5000"), "::1");
  EXPECT_EQ(AddressFromPeer("ipv6:[2001:db8::5]:443"), "2001:db8::5");
  EXPECT_EQ(AddressFromPeer("unix:/tmp/sock"), "unix:/tmp/sock");
}

TEST(ClientAddress, ForwardedHeaderTakesTheEntryTheTrustedProxyAppended) {
  // The left entries are whatever the client claimed; the proxy appends the
  // address it saw, so the last one is the one to trust.
  EXPECT_EQ(AddressFromForwarded("1.1.1.1, 203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(AddressFromForwarded(" 198.51.100.4 "), "198.51.100.4");
  EXPECT_EQ(AddressFromForwarded(""), "");
}

TEST(KeySealer, SealedSecretOpensOnlyWithTheSameKeyAndKid) {
  auto a = KeySealer::FromBase64(kKeyA);
  auto b = KeySealer::FromBase64(kKeyB);
  std::string secret(64, '\x5a');
  auto sealed = a.Seal(secret, "k-1");
  EXPECT_EQ(sealed.ciphertext.find(secret), std::string::npos) << "plaintext in the ciphertext";
  EXPECT_EQ(sealed.ciphertext.size(), secret.size() + 16);  // Poly1305 tag
  EXPECT_EQ(sealed.nonce.size(), 24u);                      // XChaCha20 nonce
  EXPECT_EQ(a.Open(sealed, "k-1"), secret);
  EXPECT_THROW(b.Open(sealed, "k-1"), std::runtime_error) << "another key";
  EXPECT_THROW(a.Open(sealed, "k-2"), std::runtime_error) << "moved to another kid";
  auto tampered = sealed;
  tampered.ciphertext[3] ^= 1;
  EXPECT_THROW(a.Open(tampered, "k-1"), std::runtime_error) << "altered";
}

TEST(KeySealer, EverySealUsesAFreshNonce) {
  auto a = KeySealer::FromBase64(kKeyA);
  auto first = a.Seal("same secret", "k");
  auto second = a.Seal("same secret", "k");
  EXPECT_NE(first.nonce, second.nonce);
  EXPECT_NE(first.ciphertext, second.ciphertext);
}

TEST(KeySealer, RefusesKeysThatAreNot32BytesOfBase64) {
  EXPECT_THROW(KeySealer::FromBase64(""), std::invalid_argument);
  EXPECT_THROW(KeySealer::FromBase64("c2hvcnQ="), std::invalid_argument);  // "short"
  EXPECT_THROW(KeySealer::FromBase64("not base64 at all!!"), std::invalid_argument);
  try {
    KeySealer::FromBase64("c2hvcnQ=");
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("openssl rand -base64 32"));
  }
}

TEST(PasswordGate, RefusesAtOnceBeyondItsCapacityAndFreesSlotsOnRelease) {
  PasswordGate gate(2);
  auto first = gate.TryEnter();
  auto second = gate.TryEnter();
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(gate.TryEnter()) << "a third at once must be refused, not queued";
  first.reset();
  EXPECT_TRUE(gate.TryEnter()) << "a released slot is free again";
}

TEST(PasswordGate, NeverMoreHoldersThanCapacityUnderContention) {
  PasswordGate gate(3);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto permit = gate.TryEnter();
        if (!permit) {
          ++refused;
          continue;
        }
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_GT(refused.load(), 0);
}

}  // namespace
}  // namespace ates::auth
