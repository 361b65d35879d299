#pragma once
// The consumer-group coordinator of our single broker (node 0), following Kafka's group
// membership protocol (KIP-62 timeouts, no static membership: group_instance_id is accepted
// and ignored). Group states: Empty -> PreparingRebalance -> CompletingRebalance -> Stable.
//  * JoinGroup puts the group in PreparingRebalance and blocks until every known member has
//    rejoined (or the rebalance timeout passes; members that did not rejoin are dropped);
//    a group that was Empty first waits initial_rebalance_delay_ms for more members. Then
//    the generation is bumped, a protocol chosen by the members' votes, and the leader (the
//    first member to join) receives all members' metadata.
//  * SyncGroup: the leader sends the assignments (the client computes them: range,
//    roundrobin, cooperative-sticky... the broker only relays); followers block until then.
//  * Heartbeat answers REBALANCE_IN_PROGRESS while a rebalance is being prepared, so
//    members rejoin; a member whose session times out is removed and triggers a rebalance.
// Offsets are not kept here: the server stores them through the backend after
// check_commit() has validated the member and generation.
//
// Threads: any connection thread calls in; join() and sync() block the caller (Kafka also
// processes one request per connection at a time). One mutex guards all groups; a reaper
// thread expires sessions and completes joins whose deadline passed.

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kafka/messages.hpp"

namespace freshet::kafka {

class GroupCoordinator {
 public:
  struct Options {
    int initial_rebalance_delay_ms = 3000;
    int min_session_timeout_ms = 1000;
    int max_session_timeout_ms = 600000;
    size_t max_groups = 10000;
    size_t max_members_per_group = 1000;
  };
  explicit GroupCoordinator(Options options);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // client_host: the member's address as DescribeGroups reports it ("" when unknown).
  JoinGroupResponse join(const JoinGroupRequest& req, const std::string& client_id, const std::string& client_host = "");
  SyncGroupResponse sync(const SyncGroupRequest& req);
  int16_t heartbeat(const HeartbeatRequest& req);
  LeaveGroupResponse leave(const LeaveGroupRequest& req);
  // Whether an OffsetCommit by (member, generation) may be applied: 0 or a Kafka error code.
  // generation -1 with an empty member id is a commit from outside the group (allowed).
  int16_t check_commit(const std::string& group_id, int32_t generation_id, const std::string& member_id);

  // Wakes every blocked join/sync (they answer COORDINATOR_NOT_AVAILABLE) and stops the reaper.
  void shutdown();

  // For tests: the group's generation and member count.
  std::pair<int32_t, size_t> describe(const std::string& group_id);

  // ListGroups: every group this coordinator knows (joined since start, members or not),
  // optionally only those in one of states_filter (Kafka's state names, case-insensitive).
  ListGroupsResponse list_groups(const std::vector<std::string>& states_filter);
  // DescribeGroups: state, protocol and members of each group; "Dead" for an unknown one.
  DescribeGroupsResponse describe_groups(const DescribeGroupsRequest& req);

 private:
  using Clock = std::chrono::steady_clock;
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable };
  struct Member {
    std::string id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::vector<JoinGroupRequest::Protocol> protocols;
    Clock::time_point last_seen;
    bool joined = false;  // rejoined in the current rebalance
    int waiting = 0;      // blocked in join/sync: alive regardless of heartbeats
    bool has_join_result = false;
    JoinGroupResponse join_result;
    std::string assignment;
    uint64_t order = 0;   // join order (the leader is the earliest)
  };
  struct Group {
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;
    std::string protocol;
    std::string leader;
    std::map<std::string, Member> members;
    Clock::time_point initial_deadline;
    Clock::time_point rebalance_deadline;
  };

  void start_rebalance_locked(Group& g, Clock::time_point now);
  void try_complete_join_locked(Group& g, Clock::time_point now);
  void remove_member_locked(Group& g, const std::string& member_id, Clock::time_point now);
  void reaper();

  const Options options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  // Guarded by mutex_:
  std::map<std::string, Group> groups_;
  uint64_t next_order_ = 0;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace freshet::kafka
