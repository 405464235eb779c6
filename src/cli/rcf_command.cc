#include <sstream>
#include <iostream>

#include "cli/command.h"
#include "cli/rcf_score_command.h"

namespace fleetlog::cli {

CommandAction AddRcf(CLI::App& app, const GlobalOptions& /*global*/) {
  app.require_subcommand(1);
  CLI::App* score = app.add_subcommand("score", "Score a CSV series with a Random Cut Forest; appends score and grade");
  auto opts = std::make_shared<RcfScoreOptions>();
  auto input = std::make_shared<std::string>();
  score->add_option("--input", *input, "CSV file with a header (- for stdin)")->required();
  score->add_option("--value-column", opts->value_columns, "Value column (repeatable for several dimensions; default value)");
  score->add_option("--time-column", opts->time_column, "Time column, named in messages (default timestamp)");
  score->add_option("--shingle", opts->shingle_size, "Shingle size (default 1)");
  score->add_option("--trees", opts->number_of_trees, "Trees (default 50)");
  score->add_option("--sample", opts->sample_size, "Sample size per tree (default 256)");
  score->add_option("--seed", opts->seed, "Random seed (default 42)");
  return [opts, input] {
    if (*input == "-") return RunRcfScore(*opts, std::cin, std::cout, std::cerr);
    auto text = Env::Default()->ReadFile(*input);
    if (!text.ok()) return Fail(InvalidArgument("cannot read {}", text.status().message()));
    std::istringstream in(std::move(text).value());
    return RunRcfScore(*opts, in, std::cout, std::cerr);
  };
}

}  // namespace fleetlog::cli
