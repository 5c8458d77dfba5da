//! `biologidex-api seed-demo`: the sample taxonomy and a small demo world (three players with
//! passwords printed once, friendships, dex entries with generated photos), so a newcomer sees
//! a populated server. Safe to run twice: an existing demo world is left alone.

use std::path::PathBuf;

use biologidex_core::ids::{AnimalId, UserId};
use biologidex_core::{config::Settings, domain::password};
use biologidex_db::models::{
    accounts::{NewUser, User},
    animals::Animal,
    dex::{DexEntry, NewEntry, Visibility},
    friendships::{Action, Friendship},
    images,
};
use biologidex_media::storage;
use biologidex_taxonomy::matching::{
    MatchOptions, MatchType, match_name, upsert_animal_from_taxon,
};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::Rng;

/// Arguments of `seed-demo`.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// The ColDP release to load first (default: the sample release built into the binary).
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
}

const PLAYERS: &[&str] = &["ash", "misty", "brock"];
/// (player, scientific name, visibility) of the demo catches.
const CATCHES: &[(usize, &str, Visibility)] = &[
    (0, "Vulpes vulpes", Visibility::Friends),
    (0, "Passer domesticus", Visibility::Public),
    (0, "Apis mellifera", Visibility::Private),
    (0, "Canis familiaris", Visibility::Friends),
    (1, "Anas platyrhynchos", Visibility::Friends),
    (1, "Danaus plexippus", Visibility::Public),
    (1, "Felis catus", Visibility::Friends),
    (2, "Ursus arctos", Visibility::Friends),
    (2, "Turdus migratorius", Visibility::Public),
    (2, "Sciurus carolinensis", Visibility::Friends),
];

fn demo_photo(seed: u8) -> anyhow::Result<images::ImageBlob> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([
            seed.wrapping_mul(37),
            ((x * 255) / 320) as u8,
            ((y * 255) / 240) as u8,
        ])
    });
    biologidex_media::images::encode_png(&img).map_err(|e| anyhow::anyhow!("demo photo: {e}"))
}

async fn animal(
    conn: &mut AsyncPgConnection,
    name: &str,
    user: UserId,
) -> anyhow::Result<AnimalId> {
    let verdict = match_name(conn, name, &MatchOptions::default()).await?;
    if matches!(verdict.match_type, MatchType::Exact | MatchType::Synonym)
        && let Some(taxon) = verdict.taxon
    {
        return Ok(upsert_animal_from_taxon(conn, taxon.id, None, 1.0)
            .await?
            .id);
    }
    Ok(Animal::for_detection(conn, name, "", user)
        .await?
        .0
        .animal
        .id)
}

/// Loads the sample taxonomy and the demo world; prints the demo logins.
pub async fn seed_demo(settings: &Settings, args: SeedArgs) -> anyhow::Result<()> {
    let pool = biologidex_db::build_pool(
        &settings.database_url,
        2,
        std::time::Duration::from_secs(10),
    );
    let sample;
    let (path, label) = match &args.taxonomy {
        Some(p) if !p.exists() => {
            anyhow::bail!("--taxonomy {}: no such file or folder", p.display())
        }
        Some(p) => (p.as_path(), p.display().to_string()),
        None => {
            sample = biologidex_taxonomy::sample::SampleDir::write()?;
            (sample.path(), "the built-in sample release".to_owned())
        }
    };
    let stats = biologidex_taxonomy::import::import_path(
        &pool,
        &settings.database_url,
        path,
        &Default::default(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("loading {label}: {e}"))?;
    eprintln!(
        "taxonomy: {} name usages from {label}",
        stats.counts.name_usages
    );
    let mut conn = pool.get().await?;
    if User::find_by_username(&mut conn, PLAYERS[0])
        .await?
        .is_some()
    {
        eprintln!(
            "demo world already there (user `{}` exists): nothing to do",
            PLAYERS[0]
        );
        return Ok(());
    }
    let storage = storage::open(settings.media_storage_url.as_deref(), &settings.media_root)?;
    let mut ids = Vec::new();
    eprintln!("demo players (passwords are shown only now):");
    for name in PLAYERS {
        let pw: String = {
            let mut rng = rand::rng();
            (0..14)
                .map(|_| char::from(b"abcdefghjkmnpqrstuvwxyz23456789"[rng.random_range(0..31)]))
                .collect()
        };
        let hash = biologidex_core::cpu::run({
            let pw = pw.clone();
            move || password::hash(&pw)
        })
        .await??;
        let user = User::create(
            &mut conn,
            &NewUser {
                username: (*name).to_owned(),
                email: format!("{name}@demo.biologidex.local"),
                password_hash: hash,
                is_staff: false,
                is_superuser: false,
            },
        )
        .await?;
        eprintln!("  {name:<6} {pw}  (friend code {})", user.user.friend_code);
        ids.push(user.user.id);
    }
    for friend in &ids[1..] {
        let (row, _) = Friendship::send_request(&mut conn, ids[0], *friend).await?;
        Friendship::respond(&mut conn, &row, *friend, Action::Accept).await?;
    }
    for (i, (player, name, visibility)) in CATCHES.iter().enumerate() {
        let owner = ids[*player];
        let animal_id = animal(&mut conn, name, owner).await?;
        let photo = demo_photo(u8::try_from(i).unwrap_or(0))?;
        conn.transaction::<_, anyhow::Error, _>(async |conn| {
            let image = images::store(conn, storage.as_ref(), &photo).await?;
            DexEntry::insert(
                conn,
                &NewEntry {
                    owner_id: owner,
                    animal_id,
                    source_vision_job_id: None,
                    image_id: Some(image),
                    image_checksum: Some(photo.checksum.clone()),
                    location_lat: None,
                    location_lon: None,
                    location_name: String::new(),
                    notes: format!("Demo catch of {name}"),
                    catch_date: None,
                    visibility: *visibility,
                },
            )
            .await?;
            User::recount(conn, owner).await?;
            Ok(())
        })
        .await?;
    }
    eprintln!(
        "demo world: {} players, {} friendships, {} dex entries",
        PLAYERS.len(),
        ids.len() - 1,
        CATCHES.len()
    );
    Ok(())
}
