import pg from 'pg';

/**
 * Throwaway PostgreSQL schemas for tests that need a database of their own: each `create()`
 * gives a connection URL whose search_path is a new schema; `dropAll()` removes them.
 */
export function postgresSchemas(databaseUrl: string, prefix: string): { create(): Promise<string>; dropAll(): Promise<void> } {
  const schemas: string[] = [];
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    async create() {
      const schema = `${prefix}_${process.pid}_${Date.now()}_${schemas.length}`;
      await query(`CREATE SCHEMA ${schema}`);
      schemas.push(schema);
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return url.toString();
    },
    async dropAll() {
      for (const schema of schemas.splice(0)) await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}
