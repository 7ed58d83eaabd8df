#include "ates/platform/pg.hpp"

const std::vector<ates::pg::Migration>& PlatformMigrationList();

namespace ates::pg {
const std::vector<Migration>& PlatformMigrations() { return PlatformMigrationList(); }
}  // namespace ates::pg
