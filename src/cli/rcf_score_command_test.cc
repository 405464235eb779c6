#include "cli/rcf_score_command.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace fleetlog::cli {
namespace {

struct CommandRun {
  int code;
  std::string out, err;
};

CommandRun Score(const std::string& input, RcfScoreOptions options = {}) {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = RunRcfScore(options, in, out, err);
  return {code, out.str(), err.str()};
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(RcfScoreCommandTest, AppendsScoreAndGradeToEveryRow) {
  std::string input = "timestamp,host,value\n";
  for (int t = 0; t < 400; ++t) {
    const double v = t == 350 ? 500.0 : 10 + std::sin(t / 10.0);
    input += "2024-01-01T00:" + std::to_string(t) + ",\"db, primary\"," + std::to_string(v) + "\n";
  }
  RcfScoreOptions options;
  options.number_of_trees = 30;
  options.sample_size = 128;
  const CommandRun run = Score(input, options);
  ASSERT_EQ(run.code, 0) << run.err;
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 401u);
  EXPECT_EQ(lines[0], "timestamp,host,value,score,grade");
  EXPECT_EQ(lines[1].substr(0, lines[1].find(",\"db")), "2024-01-01T00:0");
  EXPECT_TRUE(lines[1].ends_with(",0,0")) << lines[1];  // before the model is ready
  EXPECT_NE(lines[1].find(",\"db, primary\","), std::string::npos);  // quoted text kept as is
  const std::string spike = lines[351];
  const std::string spike_tail = spike.substr(spike.rfind(',', spike.rfind(',') - 1) + 1);
  const double spike_score = std::stod(spike_tail);
  const double spike_grade = std::stod(spike_tail.substr(spike_tail.find(',') + 1));
  EXPECT_GT(spike_score, 2.0) << spike;
  EXPECT_GT(spike_grade, 0.0) << spike;
}

TEST(RcfScoreCommandTest, KeepsMultiLineQuotedRecordsAndCrlf) {
  std::string input = "value,note\r\n";
  for (int t = 0; t < 5; ++t) input += std::to_string(t) + ",\"two\r\nlines\"\r\n";
  const CommandRun run = Score(input);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_TRUE(run.out.starts_with("value,note,score,grade\r\n0,\"two\r\nlines\",0,0\r\n")) << run.out;
}

TEST(RcfScoreCommandTest, BadInputIsExitCodeTwoWithTheLine) {
  CommandRun run = Score("timestamp,value\n1,2\n2,abc\n");
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("line 3 (timestamp 2)"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("\"abc\""), std::string::npos) << run.err;

  run = Score("timestamp,reading\n1,2\n");
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("no column \"value\""), std::string::npos) << run.err;

  run = Score("value\n\"1\n");
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("never closed"), std::string::npos) << run.err;

  RcfScoreOptions options;
  options.sample_size = 0;
  EXPECT_EQ(Score("value\n1\n", options).code, 2);
  EXPECT_EQ(Score("").code, 2);
}

}  // namespace
}  // namespace fleetlog::cli
