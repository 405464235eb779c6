#include "source/source_factory.h"

#include <cstdlib>

#include "source/pg/pg_source.h"
#include "source/sim/sim_source.h"

namespace fleetlog {

Result<std::unique_ptr<Source>> MakeSource(const Config& config, const ClusterConfig& cluster, SecretStore* secrets) {
  if (cluster.kind == SourceKind::kSim)
    return MakeSimSource({.cluster = cluster.name, .seed = cluster.seed, .scale = cluster.scale});
  PgSourceOptions options{.cluster = cluster.name,
                          .dsn = cluster.dsn,
                          .statement_timeout = config.export_.statement_timeout,
                          .connect_timeout = config.export_.connect_timeout,
                          .redshift = cluster.kind == SourceKind::kRedshift || cluster.kind == SourceKind::kRedshiftServerless};
  if (!cluster.password_secret.empty()) {
    if (secrets == nullptr)
      return Error(StatusCode::kNotFound, "cluster {} names password_secret \"{}\" but the secret store has no master key",
                   cluster.name, cluster.password_secret);
    ASSIGN_OR_RETURN(options.password, secrets->Get(cluster.password_secret));
  } else if (!cluster.password_env.empty()) {
    const char* value = std::getenv(cluster.password_env.c_str());
    if (value == nullptr)
      return Error(StatusCode::kNotFound, "cluster {}: environment variable {} (password_env) is not set", cluster.name,
                   cluster.password_env);
    options.password = value;
  }
  return MakePgSource(std::move(options));
}

}  // namespace fleetlog
