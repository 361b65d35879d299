// pgJDBC (Debian libpostgresql-jdbc-java) against a running server (PGHOST/PGPORT/PGUSER/
// PGDATABASE): the DatabaseMetaData calls DBeaver makes on connect, prepared statements of the
// common types (text and binary transfer), setDate, batches, setFetchSize on a plain SELECT,
// savepoints, setQueryTimeout on a long query, errors with their SQLSTATE. Prints `ok   name` / `FAIL name: why` / `SKIP name: why`.
import java.math.BigDecimal;
import java.sql.*;
import java.time.*;
import java.util.*;

public class JdbcChecks {
  static final boolean ON_FRESHET = !"postgres".equals(System.getenv("E2E_TARGET"));
  static int passed = 0, failed = 0, skipped = 0;

  interface Body { void run() throws Exception; }

  static void check(String name, Body b) { check(name, null, false, b); }

  static void check(String name, String unsupported, boolean freshetOnly, Body b) {
    if (unsupported != null && ON_FRESHET) {
      skipped++;
      System.out.println("SKIP " + name + ": not yet supported on Freshet (" + unsupported + ")");
      return;
    }
    if (freshetOnly && !ON_FRESHET) {
      skipped++;
      System.out.println("SKIP " + name + ": Freshet only");
      return;
    }
    try {
      b.run();
      passed++;
      System.out.println("ok   " + name);
    } catch (Throwable e) {
      failed++;
      String where = e.getStackTrace().length > 0 ? e.getStackTrace()[0].toString() : "";
      for (StackTraceElement s : e.getStackTrace())
        if (s.getClassName().startsWith("JdbcChecks")) { where = s.toString(); break; }
      String msg = String.valueOf(e.getMessage()).replaceAll("\\s+", " ");
      if (msg.length() > 400) msg = msg.substring(0, 400);
      System.out.println("FAIL " + name + ": " + e.getClass().getSimpleName() + ": " + msg + " (" + where + ")");
    }
    System.out.flush();
  }

  static void eq(Object got, Object want) {
    if (!Objects.equals(got, want)) throw new AssertionError("got " + got + ", want " + want);
  }

  static void truth(boolean b, String what) { if (!b) throw new AssertionError(what); }

  static List<String> column(ResultSet rs, String col) throws SQLException {
    List<String> out = new ArrayList<>();
    while (rs.next()) out.add(rs.getString(col));
    rs.close();
    return out;
  }

  // Reads every column of every row by name, as tools do when they list metadata.
  static int drain(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    int n = 0;
    while (rs.next()) {
      for (int i = 1; i <= md.getColumnCount(); i++) rs.getObject(i);
      n++;
    }
    rs.close();
    return n;
  }

  static Connection connect(Properties extra) throws SQLException {
    String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT") + "/" + System.getenv("PGDATABASE");
    Properties p = new Properties();
    p.setProperty("user", System.getenv("PGUSER"));
    p.setProperty("ApplicationName", "jdbc_e2e");
    if (extra != null) p.putAll(extra);
    return DriverManager.getConnection(url, p);
  }

  public static void main(String[] args) throws Exception {
    Connection c = connect(null);
    Statement st = c.createStatement();

    check("create tables", () -> {
      st.execute("DROP VIEW IF EXISTS jdbc_v");
      st.execute("DROP TABLE IF EXISTS jdbc_t");
      st.execute("DROP TABLE IF EXISTS jdbc_k");
      st.execute("CREATE TABLE jdbc_t (id int PRIMARY KEY, name varchar(40) NOT NULL, amount numeric(10,2), "
          + "born date, seen timestamp, seen_tz timestamptz, flag boolean, big bigint, small smallint, "
          + "r real, d double precision, raw bytea, doc jsonb, u uuid, t time, note text DEFAULT 'none')");
      st.execute("CREATE TABLE jdbc_k (a int, b text, c int, UNIQUE (a, b))");
      st.execute("CREATE INDEX jdbc_t_born ON jdbc_t (born)");
      st.execute("CREATE VIEW jdbc_v AS SELECT id, name FROM jdbc_t");
    });

    DatabaseMetaData md = c.getMetaData();
    check("metadata: product, driver, user, keywords", () -> {
      eq(md.getDatabaseProductName(), "PostgreSQL");
      truth(md.getDatabaseMajorVersion() >= 9, "version " + md.getDatabaseProductVersion());
      eq(md.getUserName(), System.getenv("PGUSER"));
      md.getDriverName();
      md.getSQLKeywords();
      md.getIdentifierQuoteString();
      md.getSearchStringEscape();
      md.supportsTransactions();
      md.getDefaultTransactionIsolation();
      md.getMaxColumnNameLength();
      md.getNumericFunctions();
      md.getStringFunctions();
      md.getTimeDateFunctions();
      md.getSystemFunctions();
    });
    check("metadata: getCatalogs, getSchemas, getTableTypes", () -> {
      eq(column(md.getCatalogs(), "TABLE_CAT"), List.of(System.getenv("PGDATABASE")));
      List<String> schemas = column(md.getSchemas(), "TABLE_SCHEM");
      truth(schemas.contains("public") && schemas.contains("pg_catalog"), "schemas " + schemas);
      truth(column(md.getSchemas(null, "pub%"), "TABLE_SCHEM").equals(List.of("public")), "getSchemas(null, pub%)");
      List<String> types = column(md.getTableTypes(), "TABLE_TYPE");
      truth(types.contains("TABLE") && types.contains("VIEW"), "table types " + types);
    });
    check("metadata: getTables", () -> {
      List<String> t = column(md.getTables(null, "public", "jdbc%", new String[] {"TABLE"}), "TABLE_NAME");
      eq(t, List.of("jdbc_k", "jdbc_t"));
      eq(column(md.getTables(null, "public", "jdbc%", new String[] {"VIEW"}), "TABLE_NAME"), List.of("jdbc_v"));
      truth(drain(md.getTables(null, null, "%", null)) >= 3, "getTables(null,null,%,null)");
      truth(drain(md.getTables(null, "pg_catalog", "pg_class", null)) == 1, "pg_catalog.pg_class");
    });
    check("metadata: getColumns", () -> {
      ResultSet rs = md.getColumns(null, "public", "jdbc_t", "%");
      List<String> got = new ArrayList<>();
      while (rs.next())
        got.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME") + ":" + rs.getInt("DATA_TYPE") + ":"
            + rs.getInt("COLUMN_SIZE") + ":" + rs.getInt("NULLABLE") + ":" + rs.getString("COLUMN_DEF"));
      rs.close();
      eq(got.get(0), "id:int4:4:10:0:null");
      eq(got.get(1), "name:varchar:12:40:0:null");
      eq(got.get(2), "amount:numeric:2:10:1:null");
      eq(got.get(3), "born:date:91:13:1:null");
      eq(got.get(4), "seen:timestamp:93:29:1:null");
      eq(got.get(6), "flag:bool:-7:1:1:null");
      eq(got.get(14).split(":")[0] + ":" + got.get(14).split(":")[1], "t:time");
      eq(got.get(15), "note:text:12:2147483647:1:'none'::text");
      eq(got.size(), 16);
    });
    check("metadata: getPrimaryKeys", () -> {
      ResultSet rs = md.getPrimaryKeys(null, "public", "jdbc_t");
      truth(rs.next(), "no key row");
      eq(rs.getString("COLUMN_NAME"), "id");
      eq(rs.getInt("KEY_SEQ"), 1);
      eq(rs.getString("PK_NAME"), "jdbc_t_pkey");
      truth(!rs.next(), "one key column");
      eq(drain(md.getPrimaryKeys(null, "public", "jdbc_k")), 0);
    });
    check("metadata: getIndexInfo", () -> {
      ResultSet rs = md.getIndexInfo(null, "public", "jdbc_t", false, true);
      List<String> got = new ArrayList<>();
      while (rs.next())
        got.add(rs.getString("INDEX_NAME") + ":" + rs.getBoolean("NON_UNIQUE") + ":" + rs.getString("COLUMN_NAME") + ":"
            + rs.getInt("ORDINAL_POSITION"));
      rs.close();
      Collections.sort(got);
      eq(got, List.of("jdbc_t_born:true:born:1", "jdbc_t_pkey:false:id:1"));
      rs = md.getIndexInfo(null, "public", "jdbc_k", true, true);
      got.clear();
      while (rs.next()) got.add(rs.getString("INDEX_NAME") + ":" + rs.getString("COLUMN_NAME") + ":" + rs.getInt("ORDINAL_POSITION"));
      rs.close();
      eq(got, List.of("jdbc_k_a_b_key:a:1", "jdbc_k_a_b_key:b:2"));
    });
    check("metadata: getImportedKeys, getExportedKeys, getCrossReference (none)", () -> {
      eq(drain(md.getImportedKeys(null, "public", "jdbc_t")), 0);
      eq(drain(md.getExportedKeys(null, "public", "jdbc_t")), 0);
      eq(drain(md.getCrossReference(null, "public", "jdbc_t", null, "public", "jdbc_k")), 0);
    });
    check("metadata: getTypeInfo", () -> {
      ResultSet rs = md.getTypeInfo();
      Set<String> names = new HashSet<>();
      while (rs.next()) names.add(rs.getString("TYPE_NAME"));
      rs.close();
      truth(names.containsAll(List.of("int4", "int8", "text", "varchar", "numeric", "bool", "date", "timestamptz", "jsonb", "uuid")),
          "types " + names);
    });
    check("metadata: getBestRowIdentifier, getVersionColumns, getColumnPrivileges, getTablePrivileges", () -> {
      ResultSet rs = md.getBestRowIdentifier(null, "public", "jdbc_t", DatabaseMetaData.bestRowSession, true);
      List<String> cols = new ArrayList<>();
      while (rs.next()) cols.add(rs.getString("COLUMN_NAME"));
      rs.close();
      eq(cols, List.of("id"));
      drain(md.getVersionColumns(null, "public", "jdbc_t"));
      drain(md.getTablePrivileges(null, "public", "jdbc_t"));
      drain(md.getColumnPrivileges(null, "public", "jdbc_t", "%"));
    });
    check("metadata: getProcedures, getFunctions, getUDTs, getClientInfoProperties", () -> {
      drain(md.getProcedures(null, "public", "%"));
      drain(md.getFunctions(null, "public", "%"));
      drain(md.getUDTs(null, "public", "%", null));
      drain(md.getClientInfoProperties());
    });
    check("DBeaver's catalog queries (connect, navigator, table editor)", () -> {
      String[] queries = {
        "SELECT current_schema(),session_user",
        "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname",
        "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=current_database()",
        "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description FROM pg_catalog.pg_type t LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid WHERE t.typname IS NOT NULL AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')",
        "select * from pg_catalog.pg_settings where name='standard_conforming_strings'",
        "select r.* from pg_catalog.pg_roles r",
        "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr, pg_catalog.pg_get_partkeydef(c.oid) as partition_key FROM pg_catalog.pg_class c LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass WHERE c.relnamespace='public'::regnamespace AND c.relkind not in ('i','I','c')",
        "select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size FROM pg_class c WHERE c.relnamespace='public'::regnamespace",
        "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid FROM pg_catalog.pg_attribute a INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid) LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum) LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid='jdbc_t'::regclass ORDER BY a.attnum",
        "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans FROM pg_catalog.pg_index i INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid WHERE i.indrelid='jdbc_t'::regclass ORDER BY tc.relname, c.relname",
        "SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then \"substring\"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy FROM pg_catalog.pg_constraint c INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass WHERE c.conrelid='jdbc_t'::regclass ORDER BY c.oid",
      };
      int[] atLeast = {1, 2, 1, 10, 1, 1, 3, 3, 16, 2, 1};
      for (int k = 0; k < queries.length; k++) {
        try (PreparedStatement ps = c.prepareStatement(queries[k])) {
          int n = drain(ps.executeQuery());
          truth(n >= atLeast[k], "query " + k + ": " + n + " rows");
        }
      }
    });
    check("result set metadata of a query", () -> {
      ResultSet rs = st.executeQuery("SELECT id, name, amount FROM jdbc_t");
      ResultSetMetaData m = rs.getMetaData();
      eq(m.getColumnCount(), 3);
      eq(m.getColumnTypeName(2), "varchar");
      eq(m.getTableName(1), "jdbc_t");
      eq(m.getPrecision(3), 10);
      eq(m.getScale(3), 2);
      eq(m.isNullable(2), ResultSetMetaData.columnNoNulls);
      eq(m.isAutoIncrement(1), false);
      rs.close();
    });

    final LocalDate leap = LocalDate.of(2024, 2, 29);
    for (String mode : new String[] {"text", "binary"}) {
      Properties p = new Properties();
      p.setProperty("prepareThreshold", "-1");  // named statements from the first execution
      if (mode.equals("binary")) p.setProperty("binaryTransfer", "true");
      else p.setProperty("binaryTransfer", "false");
      final int base = mode.equals("text") ? 1 : 100;
      check("prepared statements, every common type (" + mode + ")", () -> {
        try (Connection cc = connect(p);
             PreparedStatement ps = cc.prepareStatement("INSERT INTO jdbc_t (id, name, amount, born, seen, seen_tz, flag, big, "
                 + "small, r, d, raw, doc, u, t) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)")) {
          for (int k = 0; k < 3; k++) {
            ps.setInt(1, base + k);
            ps.setString(2, "n'" + k);
            ps.setBigDecimal(3, new BigDecimal("12.34"));
            ps.setObject(4, leap);
            ps.setTimestamp(5, Timestamp.valueOf("2024-02-29 13:14:15.5"));
            ps.setObject(6, OffsetDateTime.of(2024, 2, 29, 13, 14, 15, 0, ZoneOffset.UTC));
            ps.setBoolean(7, true);
            ps.setLong(8, 9007199254740993L);
            ps.setShort(9, (short) -7);
            ps.setFloat(10, 1.5f);
            ps.setDouble(11, 2.25);
            ps.setBytes(12, new byte[] {0, (byte) 255, 97});
            ps.setString(13, "{\"a\": [1, 2]}");
            ps.setObject(14, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
            ps.setObject(15, LocalTime.of(13, 14, 15));
            eq(ps.executeUpdate(), 1);
          }
          try (PreparedStatement q = cc.prepareStatement("SELECT * FROM jdbc_t WHERE id = ? AND name = ?")) {
            q.setInt(1, base + 2);
            q.setString(2, "n'2");
            ResultSet rs = q.executeQuery();
            truth(rs.next(), "row");
            eq(rs.getBigDecimal("amount"), new BigDecimal("12.34"));
            eq(rs.getObject("born", LocalDate.class), leap);
            eq(rs.getTimestamp("seen"), Timestamp.valueOf("2024-02-29 13:14:15.5"));
            eq(rs.getObject("seen_tz", OffsetDateTime.class).toInstant(), Instant.parse("2024-02-29T13:14:15Z"));
            eq(rs.getBoolean("flag"), true);
            eq(rs.getLong("big"), 9007199254740993L);
            eq(rs.getShort("small"), (short) -7);
            eq(rs.getFloat("r"), 1.5f);
            eq(rs.getDouble("d"), 2.25);
            eq(Arrays.toString(rs.getBytes("raw")), "[0, -1, 97]");
            eq(rs.getString("doc"), "{\"a\": [1, 2]}");
            eq(rs.getObject("u"), UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
            eq(rs.getObject("t", LocalTime.class), LocalTime.of(13, 14, 15));
            eq(rs.getString("note"), "none");
            truth(!rs.next(), "one row");
          }
        }
      });
    }

    check("setDate and getDate", () -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT ?::date AS d, born FROM jdbc_t WHERE born = ? LIMIT 1")) {
        ps.setDate(1, java.sql.Date.valueOf("2024-02-29"));
        ps.setDate(2, java.sql.Date.valueOf("2024-02-29"));
        ResultSet rs = ps.executeQuery();
        truth(rs.next(), "row");
        eq(rs.getDate(1).toString(), "2024-02-29");
        eq(rs.getDate(2).toString(), "2024-02-29");
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_t (id, name, born) VALUES (?, ?, ?)")) {
        ps.setInt(1, 50);
        ps.setString(2, "dated");
        ps.setDate(3, java.sql.Date.valueOf("1999-12-31"));
        eq(ps.executeUpdate(), 1);
      }
      ResultSet rs = st.executeQuery("SELECT born::text FROM jdbc_t WHERE id = 50");
      rs.next();
      eq(rs.getString(1), "1999-12-31");
    });

    check("batches (addBatch/executeBatch)", () -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_k VALUES (?, ?, ?)")) {
        for (int k = 0; k < 250; k++) {
          ps.setInt(1, k);
          ps.setString(2, "b" + k);
          ps.setInt(3, k * 2);
          ps.addBatch();
        }
        int[] counts = ps.executeBatch();
        eq(counts.length, 250);
        for (int n : counts) truth(n == 1 || n == Statement.SUCCESS_NO_INFO, "count " + n);
      }
      Statement s2 = c.createStatement();
      s2.addBatch("INSERT INTO jdbc_k VALUES (1000, 'x', 0)");
      s2.addBatch("UPDATE jdbc_k SET c = c + 1 WHERE a = 1000");
      eq(Arrays.toString(s2.executeBatch()), "[1, 1]");
      ResultSet rs = st.executeQuery("SELECT count(*), sum(c) FROM jdbc_k");
      rs.next();
      eq(rs.getLong(1), 251L);
      eq(rs.getLong(2), 62251L);
    });

    check("setFetchSize on a plain SELECT (portal with a row limit)", () -> {
      try (Connection cc = connect(null)) {
        cc.setAutoCommit(false);
        try (PreparedStatement ps = cc.prepareStatement("SELECT a FROM jdbc_k WHERE a < ? ORDER BY a")) {
          ps.setFetchSize(7);
          ps.setInt(1, 100);
          ResultSet rs = ps.executeQuery();
          int n = 0;
          while (rs.next()) { eq(rs.getInt(1), n); n++; }
          eq(n, 100);
        }
        cc.commit();
      }
    });

    check("transactions: commit and rollback", () -> {
      try (Connection cc = connect(null)) {
        cc.setAutoCommit(false);
        Statement s = cc.createStatement();
        s.executeUpdate("INSERT INTO jdbc_k VALUES (2000, 'c', 0)");
        cc.commit();
        s.executeUpdate("INSERT INTO jdbc_k VALUES (2001, 'r', 0)");
        cc.rollback();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc_k WHERE a >= 2000");
        rs.next();
        eq(rs.getInt(1), 1);
        cc.commit();
      }
    });

    check("errors carry their SQLSTATE", () -> {
      String[][] cases = {{"SELECT * FROM no_such_table", "42P01"}, {"SELECT 1/0", "22012"},
                          {"INSERT INTO jdbc_t (id, name) VALUES (1, 'dup')", "23505"}, {"SELEC 1", "42601"}};
      for (String[] k : cases) {
        try {
          st.execute(k[0]);
          throw new AssertionError(k[0] + ": no error");
        } catch (SQLException e) {
          eq(e.getSQLState(), k[1]);
        }
      }
    });

    check("savepoints", null, false, () -> {
      try (Connection cc = connect(null)) {
        cc.setAutoCommit(false);
        Statement s = cc.createStatement();
        s.executeUpdate("INSERT INTO jdbc_k VALUES (3000, 'kept', 0)");
        Savepoint sp = cc.setSavepoint();
        s.executeUpdate("INSERT INTO jdbc_k VALUES (3001, 'undone', 0)");
        cc.rollback(sp);
        cc.commit();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc_k WHERE a >= 3000");
        rs.next();
        eq(rs.getInt(1), 1);
      }
    });

    check("setQueryTimeout cancels a long query (57014)", () -> {
      try (Connection cc = connect(null); Statement s = cc.createStatement()) {
        s.setQueryTimeout(1);  // pgJDBC sends a CancelRequest after 1 s
        long start = System.nanoTime();
        try {
          s.executeQuery("SELECT sum(g) FROM generate_series(1, 400000000) g");
          throw new AssertionError("the query finished within its timeout");
        } catch (SQLException e) {
          eq(e.getSQLState(), "57014");
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (ms < 900 || ms > 3000) throw new AssertionError("answered after " + ms + " ms, want about 1000");
        ResultSet rs = s.executeQuery("SELECT 1");  // the connection stays usable
        rs.next();
        eq(rs.getInt(1), 1);
      }
    });

    check("DDL with autocommit off", null, false, () -> {
      try (Connection cc = connect(null)) {
        cc.setAutoCommit(false);
        cc.createStatement().execute("CREATE TABLE jdbc_tx (a int)");
        cc.createStatement().executeUpdate("INSERT INTO jdbc_tx VALUES (1)");
        cc.rollback();
        try {
          cc.createStatement().executeQuery("SELECT * FROM jdbc_tx");
          throw new AssertionError("jdbc_tx exists after rollback");
        } catch (SQLException e) {
          eq(e.getSQLState(), "42P01");
        }
        cc.rollback();
        cc.createStatement().execute("CREATE TABLE jdbc_tx (a int)");
        cc.createStatement().executeUpdate("INSERT INTO jdbc_tx VALUES (2)");
        cc.commit();
        ResultSet rs = cc.createStatement().executeQuery("SELECT a FROM jdbc_tx");
        rs.next();
        eq(rs.getInt(1), 2);
        cc.createStatement().execute("DROP TABLE jdbc_tx");
        cc.commit();
      }
    });

    check("SUBSCRIBE through a fetch-size cursor", null, true, () -> {
      st.execute("CREATE TABLE jdbc_sub (k int, v text)");
      st.execute("INSERT INTO jdbc_sub VALUES (1, 'a'), (2, 'b')");
      try (Connection cc = connect(null); Statement s = cc.createStatement()) {
        cc.setAutoCommit(false);  // a fetch size needs a transaction, else pgJDBC reads all rows
        s.setQueryTimeout(20);
        s.setFetchSize(1);
        ResultSet rs = s.executeQuery("SUBSCRIBE jdbc_sub");
        eq(rs.getMetaData().getColumnName(1), "mz_timestamp");
        List<String> got = new ArrayList<>();
        while (got.size() < 2 && rs.next()) got.add(rs.getString("k") + rs.getString("v"));
        Collections.sort(got);
        eq(got, List.of("1a", "2b"));
        s.cancel();
      }
    });

    check("server still answers", () -> {
      ResultSet rs = st.executeQuery("SELECT count(*) FROM jdbc_t");
      rs.next();
      eq(rs.getInt(1), 7);
    });

    c.close();
    System.out.println("jdbc: " + passed + " passed, " + failed + " failed, " + skipped + " skipped");
    System.exit(failed == 0 ? 0 : 1);
  }
}
