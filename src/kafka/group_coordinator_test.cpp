#include "kafka/group_coordinator.hpp"

#include <gtest/gtest.h>

#include <future>

#include "kafka/errors.hpp"

namespace freshet::kafka {
namespace {

JoinGroupRequest join_req(std::string member, int session_ms = 10000) {
  JoinGroupRequest r;
  r.group_id = "g";
  r.session_timeout_ms = session_ms;
  r.rebalance_timeout_ms = 5000;
  r.member_id = std::move(member);
  r.protocol_type = "consumer";
  r.protocols = {{"range", "meta"}, {"roundrobin", "meta2"}};
  return r;
}

GroupCoordinator::Options fast() {
  GroupCoordinator::Options o;
  o.initial_rebalance_delay_ms = 200;
  o.min_session_timeout_ms = 100;
  return o;
}

TEST(GroupCoordinator, TwoMembersJoinSyncAndRebalanceOnLeave) {
  GroupCoordinator gc(fast());
  auto a = std::async(std::launch::async, [&] { return gc.join(join_req(""), "a"); });
  auto b = std::async(std::launch::async, [&] { return gc.join(join_req(""), "b"); });
  JoinGroupResponse ra = a.get(), rb = b.get();
  ASSERT_EQ(ra.error_code, 0);
  ASSERT_EQ(rb.error_code, 0);
  EXPECT_EQ(ra.generation_id, 1);
  EXPECT_EQ(ra.generation_id, rb.generation_id);
  EXPECT_EQ(ra.protocol_name, "range");
  EXPECT_EQ(ra.leader, rb.leader);
  const JoinGroupResponse& leader = ra.leader == ra.member_id ? ra : rb;
  const JoinGroupResponse& follower = ra.leader == ra.member_id ? rb : ra;
  EXPECT_EQ(leader.members.size(), 2u);
  EXPECT_TRUE(follower.members.empty());

  auto fs = std::async(std::launch::async, [&] {
    return gc.sync(SyncGroupRequest{"g", 1, follower.member_id, std::nullopt, {}});
  });
  SyncGroupResponse ls = gc.sync(SyncGroupRequest{
      "g", 1, leader.member_id, std::nullopt, {{leader.member_id, "A"}, {follower.member_id, "B"}}});
  EXPECT_EQ(ls.error_code, 0);
  EXPECT_EQ(ls.assignment, "A");
  SyncGroupResponse s2 = fs.get();
  EXPECT_EQ(s2.error_code, 0);
  EXPECT_EQ(s2.assignment, "B");
  EXPECT_EQ(gc.heartbeat(HeartbeatRequest{"g", 1, follower.member_id, std::nullopt}), 0);
  EXPECT_EQ(gc.heartbeat(HeartbeatRequest{"g", 0, follower.member_id, std::nullopt}), error::kIllegalGeneration);
  EXPECT_EQ(gc.heartbeat(HeartbeatRequest{"g", 1, "nobody", std::nullopt}), error::kUnknownMemberId);
  EXPECT_EQ(gc.check_commit("g", 1, leader.member_id), 0);

  // The leader leaves: the follower's heartbeat says rebalance, it rejoins alone (gen 2).
  EXPECT_EQ(gc.leave(LeaveGroupRequest{"g", {leader.member_id}}).error_code, 0);
  EXPECT_EQ(gc.heartbeat(HeartbeatRequest{"g", 1, follower.member_id, std::nullopt}), error::kRebalanceInProgress);
  JoinGroupResponse again = gc.join(join_req(follower.member_id), "b");
  EXPECT_EQ(again.error_code, 0);
  EXPECT_EQ(again.generation_id, 2);
  EXPECT_EQ(again.leader, follower.member_id);
}

TEST(GroupCoordinator, SessionTimeoutRemovesMember) {
  GroupCoordinator gc(fast());
  JoinGroupResponse r = gc.join(join_req("", 300), "a");
  ASSERT_EQ(r.error_code, 0);
  EXPECT_EQ(gc.sync(SyncGroupRequest{"g", r.generation_id, r.member_id, std::nullopt, {{r.member_id, "x"}}}).assignment, "x");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(gc.describe("g").second, 0u);
  EXPECT_EQ(gc.heartbeat(HeartbeatRequest{"g", r.generation_id, r.member_id, std::nullopt}), error::kUnknownMemberId);
}

TEST(GroupCoordinator, BadRequests) {
  GroupCoordinator gc(fast());
  EXPECT_EQ(gc.join(join_req("ghost"), "a").error_code, error::kUnknownMemberId);
  EXPECT_EQ(gc.join(join_req("", 1), "a").error_code, error::kInvalidSessionTimeout);
  JoinGroupRequest other = join_req("");
  other.protocols = {{"sticky", ""}};
  JoinGroupResponse first = gc.join(join_req(""), "a");
  ASSERT_EQ(first.error_code, 0);
  EXPECT_EQ(gc.join(other, "b").error_code, error::kInconsistentGroupProtocol);
  EXPECT_EQ(gc.sync(SyncGroupRequest{"g", 99, first.member_id, std::nullopt, {}}).error_code, error::kIllegalGeneration);
  EXPECT_EQ(gc.check_commit("h", -1, ""), 0);
}

}  // namespace
}  // namespace freshet::kafka
