#include "kafka/group_coordinator.hpp"

#include <algorithm>
#include <random>

#include "kafka/errors.hpp"

namespace freshet::kafka {

namespace {
std::string random_suffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    s.push_back(kHex[rng() % 16]);
  }
  return s;
}
constexpr auto kPoll = std::chrono::milliseconds(100);
}  // namespace

GroupCoordinator::GroupCoordinator(Options options) : options_(options) {
  reaper_ = std::thread([this] { reaper(); });
}

GroupCoordinator::~GroupCoordinator() {
  shutdown();
  if (reaper_.joinable()) reaper_.join();
}

void GroupCoordinator::shutdown() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  cv_.notify_all();
}

void GroupCoordinator::start_rebalance_locked(Group& g, Clock::time_point now) {
  bool was_empty = g.state == State::kEmpty;
  g.state = State::kPreparingRebalance;
  int32_t timeout = 0;
  for (auto& [id, m] : g.members) {
    m.joined = false;
    m.has_join_result = false;
    m.assignment.clear();
    timeout = std::max(timeout, m.rebalance_timeout_ms);
  }
  g.rebalance_deadline = now + std::chrono::milliseconds(timeout);
  g.initial_deadline = was_empty ? std::min(g.rebalance_deadline, now + std::chrono::milliseconds(options_.initial_rebalance_delay_ms))
                                 : now;
  cv_.notify_all();
}

void GroupCoordinator::try_complete_join_locked(Group& g, Clock::time_point now) {
  if (g.state != State::kPreparingRebalance) return;
  bool all = std::all_of(g.members.begin(), g.members.end(), [](const auto& kv) { return kv.second.joined; });
  if (!((all && now >= g.initial_deadline) || now >= g.rebalance_deadline)) return;
  for (auto it = g.members.begin(); it != g.members.end();) {
    it = it->second.joined ? std::next(it) : g.members.erase(it);
  }
  if (g.members.empty()) {
    g.state = State::kEmpty;
    g.leader.clear();
    g.protocol.clear();
    cv_.notify_all();
    return;
  }
  ++g.generation;
  // Each member votes for its most preferred protocol that every member supports.
  std::vector<std::string> candidates;
  for (const auto& p : g.members.begin()->second.protocols) {
    bool everyone = std::all_of(g.members.begin(), g.members.end(), [&](const auto& kv) {
      return std::any_of(kv.second.protocols.begin(), kv.second.protocols.end(),
                         [&](const auto& q) { return q.name == p.name; });
    });
    if (everyone) candidates.push_back(p.name);
  }
  std::map<std::string, int> votes;
  for (const auto& [id, m] : g.members) {
    for (const auto& p : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
    }
  }
  g.protocol.clear();
  int best = -1;
  for (const std::string& c : candidates) {
    if (votes[c] > best) {
      best = votes[c];
      g.protocol = c;
    }
  }
  if (g.members.find(g.leader) == g.members.end()) {
    const Member* first = nullptr;
    for (const auto& [id, m] : g.members) {
      if (first == nullptr || m.order < first->order) first = &m;
    }
    g.leader = first->id;
  }
  g.state = State::kCompletingRebalance;
  for (auto& [id, m] : g.members) {
    JoinGroupResponse r;
    r.generation_id = g.generation;
    r.protocol_name = g.protocol;
    r.leader = g.leader;
    r.member_id = id;
    if (id == g.leader) {
      for (const auto& [oid, om] : g.members) {
        std::string meta;
        for (const auto& p : om.protocols) {
          if (p.name == g.protocol) meta = p.metadata;
        }
        r.members.push_back(JoinGroupResponse::Member{oid, std::nullopt, meta});
      }
    }
    m.join_result = std::move(r);
    m.has_join_result = true;
  }
  cv_.notify_all();
}

void GroupCoordinator::remove_member_locked(Group& g, const std::string& member_id, Clock::time_point now) {
  g.members.erase(member_id);
  if (g.members.empty()) {
    g.state = State::kEmpty;
    g.leader.clear();
    cv_.notify_all();
    return;
  }
  if (g.state == State::kPreparingRebalance) {
    try_complete_join_locked(g, now);
  } else {
    start_rebalance_locked(g, now);
  }
}

JoinGroupResponse GroupCoordinator::join(const JoinGroupRequest& req, const std::string& client_id,
                                         const std::string& client_host) {
  JoinGroupResponse err;
  err.member_id = req.member_id;
  if (req.group_id.empty()) {
    err.error_code = error::kInvalidGroupId;
    return err;
  }
  if (req.session_timeout_ms < options_.min_session_timeout_ms || req.session_timeout_ms > options_.max_session_timeout_ms) {
    err.error_code = error::kInvalidSessionTimeout;
    return err;
  }
  if (req.protocols.empty() || req.protocol_type.empty()) {
    err.error_code = error::kInconsistentGroupProtocol;
    return err;
  }
  std::unique_lock lock(mutex_);
  if (stopping_) {
    err.error_code = error::kCoordinatorNotAvailable;
    return err;
  }
  if (groups_.find(req.group_id) == groups_.end() && groups_.size() >= options_.max_groups) {
    err.error_code = error::kCoordinatorNotAvailable;
    return err;
  }
  Group& g = groups_[req.group_id];
  auto now = Clock::now();
  if (!g.members.empty()) {
    if (g.protocol_type != req.protocol_type) {
      err.error_code = error::kInconsistentGroupProtocol;
      return err;
    }
    // Some protocol must be supported by every member.
    bool common = false;
    for (const auto& p : req.protocols) {
      common = common || std::all_of(g.members.begin(), g.members.end(), [&](const auto& kv) {
        return kv.first == req.member_id || std::any_of(kv.second.protocols.begin(), kv.second.protocols.end(),
                                                        [&](const auto& q) { return q.name == p.name; });
      });
    }
    if (!common) {
      err.error_code = error::kInconsistentGroupProtocol;
      return err;
    }
  }
  std::string member_id = req.member_id;
  bool is_new = member_id.empty();
  if (is_new) {
    if (g.members.size() >= options_.max_members_per_group) {
      err.error_code = error::kGroupMaxSizeReached;
      return err;
    }
    member_id = (client_id.empty() ? std::string("consumer") : client_id) + "-" + random_suffix();
    Member m;
    m.id = member_id;
    m.client_id = client_id;
    m.client_host = client_host;
    m.order = next_order_++;
    g.members.emplace(member_id, std::move(m));
  } else if (g.members.find(member_id) == g.members.end()) {
    err.error_code = error::kUnknownMemberId;
    return err;
  }
  g.protocol_type = req.protocol_type;
  Member& m = g.members.at(member_id);
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  m.protocols = req.protocols;
  m.last_seen = now;
  if (g.state != State::kPreparingRebalance) {
    start_rebalance_locked(g, now);
  } else {
    // A new member during the initial delay extends it (Kafka's group.initial.rebalance.delay.ms).
    if (is_new && g.initial_deadline > now) {
      g.initial_deadline = std::min(g.rebalance_deadline, now + std::chrono::milliseconds(options_.initial_rebalance_delay_ms));
    }
    g.rebalance_deadline = std::max(g.rebalance_deadline, now + std::chrono::milliseconds(m.rebalance_timeout_ms));
  }
  m.joined = true;
  m.has_join_result = false;
  try_complete_join_locked(g, now);
  for (;;) {
    auto it = g.members.find(member_id);
    if (it == g.members.end()) {
      err.error_code = error::kUnknownMemberId;
      return err;
    }
    Member& me = it->second;
    if (me.has_join_result) {
      me.has_join_result = false;
      me.last_seen = Clock::now();
      return me.join_result;
    }
    if (stopping_) {
      err.error_code = error::kCoordinatorNotAvailable;
      return err;
    }
    ++me.waiting;
    cv_.wait_for(lock, kPoll);
    // The group map never erases groups, so g stays valid.
    auto again = g.members.find(member_id);
    if (again != g.members.end()) {
      --again->second.waiting;
      again->second.last_seen = Clock::now();
    }
    try_complete_join_locked(g, Clock::now());
  }
}

SyncGroupResponse GroupCoordinator::sync(const SyncGroupRequest& req) {
  SyncGroupResponse r;
  std::unique_lock lock(mutex_);
  auto git = groups_.find(req.group_id);
  if (git == groups_.end() || git->second.members.find(req.member_id) == git->second.members.end()) {
    r.error_code = error::kUnknownMemberId;
    return r;
  }
  Group& g = git->second;
  if (req.generation_id != g.generation) {
    r.error_code = error::kIllegalGeneration;
    return r;
  }
  g.members.at(req.member_id).last_seen = Clock::now();
  if (g.state == State::kCompletingRebalance && req.member_id == g.leader) {
    for (auto& [id, m] : g.members) m.assignment.clear();
    for (const auto& a : req.assignments) {
      auto it = g.members.find(a.member_id);
      if (it != g.members.end()) it->second.assignment = a.assignment;
    }
    g.state = State::kStable;
    cv_.notify_all();
  }
  const int32_t generation = g.generation;
  for (;;) {
    auto it = g.members.find(req.member_id);
    if (it == g.members.end()) {
      r.error_code = error::kUnknownMemberId;
      return r;
    }
    if (g.generation != generation || g.state == State::kPreparingRebalance || g.state == State::kEmpty) {
      r.error_code = error::kRebalanceInProgress;
      return r;
    }
    if (g.state == State::kStable) {
      r.assignment = it->second.assignment;
      it->second.last_seen = Clock::now();
      return r;
    }
    if (stopping_) {
      r.error_code = error::kCoordinatorNotAvailable;
      return r;
    }
    ++it->second.waiting;
    cv_.wait_for(lock, kPoll);
    auto again = g.members.find(req.member_id);
    if (again != g.members.end()) {
      --again->second.waiting;
      again->second.last_seen = Clock::now();
    }
  }
}

int16_t GroupCoordinator::heartbeat(const HeartbeatRequest& req) {
  std::lock_guard lock(mutex_);
  auto git = groups_.find(req.group_id);
  if (git == groups_.end()) return error::kUnknownMemberId;
  Group& g = git->second;
  auto it = g.members.find(req.member_id);
  if (it == g.members.end()) return error::kUnknownMemberId;
  if (req.generation_id != g.generation) return error::kIllegalGeneration;
  it->second.last_seen = Clock::now();
  if (g.state == State::kPreparingRebalance) return error::kRebalanceInProgress;
  return error::kNone;
}

LeaveGroupResponse GroupCoordinator::leave(const LeaveGroupRequest& req) {
  LeaveGroupResponse r;
  std::lock_guard lock(mutex_);
  auto git = groups_.find(req.group_id);
  auto now = Clock::now();
  for (const std::string& id : req.member_ids) {
    LeaveGroupResponse::Member m{id, error::kNone};
    if (git == groups_.end() || git->second.members.find(id) == git->second.members.end()) {
      m.error_code = error::kUnknownMemberId;
    } else {
      remove_member_locked(git->second, id, now);
    }
    r.members.push_back(m);
  }
  if (req.member_ids.size() == 1) r.error_code = r.members[0].error_code;
  return r;
}

int16_t GroupCoordinator::check_commit(const std::string& group_id, int32_t generation_id, const std::string& member_id) {
  std::lock_guard lock(mutex_);
  auto git = groups_.find(group_id);
  if (generation_id < 0 && member_id.empty()) {
    if (git != groups_.end() && git->second.state != State::kEmpty) return error::kUnknownMemberId;
    return error::kNone;
  }
  if (git == groups_.end()) return error::kIllegalGeneration;
  Group& g = git->second;
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return error::kUnknownMemberId;
  if (generation_id != g.generation) return error::kIllegalGeneration;
  if (g.state == State::kCompletingRebalance) return error::kRebalanceInProgress;
  it->second.last_seen = Clock::now();
  return error::kNone;
}

std::pair<int32_t, size_t> GroupCoordinator::describe(const std::string& group_id) {
  std::lock_guard lock(mutex_);
  auto git = groups_.find(group_id);
  if (git == groups_.end()) return {0, 0};
  return {git->second.generation, git->second.members.size()};
}

namespace {

const char* state_name(int state) {
  switch (state) {
    case 0: return "Empty";
    case 1: return "PreparingRebalance";
    case 2: return "CompletingRebalance";
    default: return "Stable";
  }
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

ListGroupsResponse GroupCoordinator::list_groups(const std::vector<std::string>& states_filter) {
  ListGroupsResponse r;
  std::lock_guard lock(mutex_);
  for (const auto& [id, g] : groups_) {
    const char* state = state_name(static_cast<int>(g.state));
    if (!states_filter.empty() &&
        std::none_of(states_filter.begin(), states_filter.end(), [&](const std::string& f) { return same_ignoring_case(f, state); }))
      continue;
    r.groups.push_back({id, g.protocol_type, state});
  }
  return r;
}

DescribeGroupsResponse GroupCoordinator::describe_groups(const DescribeGroupsRequest& req) {
  DescribeGroupsResponse r;
  std::lock_guard lock(mutex_);
  for (const std::string& id : req.groups) {
    DescribeGroupsResponse::Group out;
    out.group_id = id;
    if (req.include_authorized_operations) out.authorized_operations = 0;
    auto it = groups_.find(id);
    if (it == groups_.end()) {
      out.group_state = "Dead";
      r.groups.push_back(std::move(out));
      continue;
    }
    const Group& g = it->second;
    out.group_state = state_name(static_cast<int>(g.state));
    out.protocol_type = g.protocol_type;
    // The protocol and assignments are settled only once the group is stable.
    const bool stable = g.state == State::kStable;
    if (stable) out.protocol_data = g.protocol;
    for (const auto& [mid, m] : g.members) {
      DescribeGroupsResponse::Member dm;
      dm.member_id = mid;
      dm.client_id = m.client_id;
      if (!m.client_host.empty()) dm.client_host = "/" + m.client_host;
      if (stable) {
        for (const auto& p : m.protocols)
          if (p.name == g.protocol) dm.member_metadata = p.metadata;
        dm.member_assignment = m.assignment;
      }
      out.members.push_back(std::move(dm));
    }
    r.groups.push_back(std::move(out));
  }
  return r;
}

void GroupCoordinator::reaper() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, kPoll);
    auto now = Clock::now();
    for (auto& [name, g] : groups_) {
      std::vector<std::string> expired;
      for (const auto& [id, m] : g.members) {
        if (m.waiting == 0 && now - m.last_seen > std::chrono::milliseconds(m.session_timeout_ms)) expired.push_back(id);
      }
      for (const auto& id : expired) remove_member_locked(g, id, now);
      try_complete_join_locked(g, now);
    }
  }
}

}  // namespace freshet::kafka
