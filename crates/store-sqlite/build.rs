include!("../store-sql/migrations_list.rs");

fn main() {
    write_migrations_list();
}
