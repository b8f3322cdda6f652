// Account.Withdraw — the check-then-act race of the seeds' "race conditions"
// chapter:
//
//   func (a *Account) Withdraw(n int) error {
//       if a.Balance < n { return ErrInsufficient }
//       a.Balance -= n
//       return nil
//   }
//   a := Account{Balance: 10}
//   go func() { a.Withdraw(6) }()
//   go func() { a.Withdraw(5) }()
//
// Either withdrawal alone is fine and only one of them can succeed, but both
// may read 10, both pass the check, and the balance ends at -1 (or the second
// write overwrites the first: a lost update). The check and the update must be
// one atomic step: the twin does both under the account's mutex.
//
// The balance is a weft::check::shared<int>, so the race detector sees every
// read and write; main checks the invariant (never overdrawn) at the end. The
// accesses are written as load() and store() rather than `-=` so that each is
// reported at its own line.
#include <weft/weft.hpp>
#include <weft/check/explore.hpp>
#include <weft/check/shared.hpp>

#include "seeds.hpp"

namespace seeds {
namespace {

const weft::error insufficient_funds = weft::error::sentinel("insufficient funds");

// The seed's Account: nothing makes the check and the update one step.
class racy_account {
 public:
  explicit racy_account(int balance) : balance_(balance) {}

  weft::error withdraw(int n) {
    if (balance_.load() < n) return insufficient_funds;  // check ...
    balance_.store(balance_.load() - n);                 // ... then act
    return {};
  }
  int balance() const { return balance_.load(); }

 private:
  weft::check::shared<int> balance_;
};

// The twin: the check and the update under one lock.
class account {
 public:
  explicit account(int balance) : balance_(balance) {}

  weft::error withdraw(int n) {
    std::lock_guard lock(mu_);
    if (balance_.load() < n) return insufficient_funds;
    balance_.store(balance_.load() - n);
    return {};
  }
  int balance() {
    std::lock_guard lock(mu_);
    return balance_.load();
  }

 private:
  weft::mutex mu_;
  weft::check::shared<int> balance_;
};

template <class Account>
void withdraw_twice() {
  Account a{10};
  weft::wait_group wg;
  wg.go([&a] {
    if (auto err = a.withdraw(6)) say("withdraw 6: %s\n", err.message().c_str());
  });
  wg.go([&a] {
    if (auto err = a.withdraw(5)) say("withdraw 5: %s\n", err.message().c_str());
  });
  wg.wait();
  const int balance = a.balance();
  say("balance: %d\n", balance);
  WEFT_ASSERT(balance >= 0);  // never overdrawn
}

}  // namespace

void account_bad() { withdraw_twice<racy_account>(); }
void account_fixed() { withdraw_twice<account>(); }

}  // namespace seeds
